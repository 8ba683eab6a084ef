// Tests call the codec's synchronous readers and writers directly, as the write path and the hooks do
// after loading the yaml package (src/core/yaml-value.ts); the read path's not loading it is tested in a
// process of its own (test/yaml-lazy.test.ts).
import { loadYaml } from '../../src/core/yaml-value.js';

await loadYaml();
