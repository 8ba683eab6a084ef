/**
 * Reading from the terminal: a secret value typed without echo (twice, to confirm) for put-secret-value and
 * create-secret --prompt, and a plain yes/no line for `edit`. The terminal is put in raw mode, so the
 * terminal itself echoes nothing; typed characters are echoed by us only when asked (never for a value).
 * Prompts go to the terminal's output stream (stderr by default), never to stdout.
 */
import { StringDecoder } from 'node:string_decoder';
import { InvalidParameterException } from '../errors.js';

/** The terminal: where prompts read keys from and write to. Injectable through `CliIo.terminal`. */
export interface TerminalStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly output: NodeJS.WritableStream;
}

export function defaultTerminal(): TerminalStreams {
  return { input: process.stdin, output: process.stderr };
}

/** What a line read ends with: the text, or Ctrl-C / end of input. */
export type LineResult = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'interrupted' } | { readonly kind: 'eof' };

/** How many times a pair of entries may disagree before put-secret-value gives up. */
export const PROMPT_ATTEMPTS = 3;

/**
 * One raw-mode session on the terminal. Keys are read as they come; what is typed ahead of a prompt is
 * kept for it (a paste of two lines answers two prompts). `close` restores the terminal.
 */
export class TerminalSession {
  private buffer = '';
  private ended = false;
  private wake?: () => void;
  private readonly decoder = new StringDecoder('utf8');
  private readonly onData = (chunk: Buffer | string) => {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };

  constructor(private readonly streams: TerminalStreams) {
    streams.input.setRawMode?.(true);
    streams.input.on('data', this.onData);
    streams.input.on('end', this.onEnd);
    streams.input.resume();
  }

  write(text: string): void {
    this.streams.output.write(text);
  }

  /** Shows `prompt`, reads one line; typed characters are echoed only when `echo` is true. */
  async readLine(prompt: string, echo: boolean): Promise<LineResult> {
    this.write(prompt);
    let line = '';
    for (;;) {
      while (this.buffer.length > 0) {
        const ch = this.buffer[0]!;
        this.buffer = this.buffer.slice(1);
        if (ch === '\r' || ch === '\n') {
          // A CR LF pair (a paste, or a terminal in CRLF mode) ends one line, not two.
          if (ch === '\r' && this.buffer[0] === '\n') this.buffer = this.buffer.slice(1);
          this.write('\n');
          return { kind: 'line', text: line };
        }
        if (ch === '\x03') {
          this.write('^C\n');
          return { kind: 'interrupted' };
        }
        if (ch === '\x04') {
          if (line === '') {
            this.write('\n');
            return { kind: 'eof' };
          }
          continue;
        }
        if (ch === '\x7f' || ch === '\b') {
          if (line.length > 0) {
            line = [...line].slice(0, -1).join('');
            if (echo) this.write('\b \b');
          }
          continue;
        }
        if (ch === '\x15') {
          // Ctrl-U: start the line again.
          if (echo) this.write('\b \b'.repeat([...line].length));
          line = '';
          continue;
        }
        if (ch === '\x1b') {
          // An escape sequence (arrow keys and the like): dropped whole.
          const seq = /^(?:\[[0-9;?]*[ -/]*[@-~]|O[A-Za-z]|[A-Za-z])?/.exec(this.buffer)![0];
          this.buffer = this.buffer.slice(seq.length);
          continue;
        }
        if (ch < ' ' && ch !== '\t') continue;
        line += ch;
        if (echo) this.write(ch);
      }
      if (this.ended) {
        this.write('\n');
        return { kind: 'eof' };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  close(): void {
    this.streams.input.off('data', this.onData);
    this.streams.input.off('end', this.onEnd);
    this.streams.input.setRawMode?.(false);
    this.streams.input.pause();
  }
}

/**
 * Asks for a secret value on the terminal without echo, twice; a mismatch asks again, up to
 * PROMPT_ATTEMPTS times, then fails. Resolves to undefined when the user pressed Ctrl-C.
 */
export async function promptSecretValue(streams: TerminalStreams, what = 'SecretString'): Promise<string | undefined> {
  const session = new TerminalSession(streams);
  try {
    for (let attempt = 1; attempt <= PROMPT_ATTEMPTS; attempt++) {
      const first = await session.readLine(`Enter the ${what} (input is hidden): `, false);
      if (first.kind === 'interrupted') return undefined;
      if (first.kind === 'eof') throw new InvalidParameterException(`no ${what} was entered (end of input); nothing was saved`);
      const second = await session.readLine(`Enter it again to confirm: `, false);
      if (second.kind === 'interrupted') return undefined;
      if (second.kind === 'eof') throw new InvalidParameterException(`no ${what} was entered (end of input); nothing was saved`);
      if (first.text === second.text) return first.text;
      if (attempt < PROMPT_ATTEMPTS) session.write('The two entries did not match; try again.\n');
    }
    throw new InvalidParameterException(`the two entries of ${what} did not match ${PROMPT_ATTEMPTS} times; nothing was saved`);
  } finally {
    session.close();
  }
}

/** A yes/no question on the terminal (typed answer echoed); Enter alone takes `byDefault`. */
export async function confirm(streams: TerminalStreams, question: string, byDefault: boolean): Promise<boolean> {
  const session = new TerminalSession(streams);
  try {
    const answer = await session.readLine(`${question} ${byDefault ? '[Y/n]' : '[y/N]'} `, true);
    if (answer.kind !== 'line') return false;
    const text = answer.text.trim().toLowerCase();
    return text === '' ? byDefault : text === 'y' || text === 'yes';
  } finally {
    session.close();
  }
}
