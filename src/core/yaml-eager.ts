/**
 * Imported (for its effect) by modules off the read path that parse or write store files synchronously
 * (hooks, sync, verify, merge...): they load the `yaml` package with their own code, as before the fast
 * reader, so their synchronous codec calls never find it missing.
 */
import * as yaml from 'yaml';
import { provideYaml } from './yaml-value.js';

provideYaml(yaml);
