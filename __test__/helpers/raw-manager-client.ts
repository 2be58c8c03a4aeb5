// A hand-rolled manager client for the hostile-input tests: raw frames on a socket, and the
// authkey handshake written out here from Python's protocol (so it also checks the server speaks it).
import { createHmac, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { bytesFrame, frameValue, valueFrame, FrameReader } from '../../src/connection/framing.js';

export const CALL = 0;
export const CREATE = 1;

export class RawClient {
  readonly socket: Socket;
  readonly #reader = new FrameReader(1 << 30);
  #frames: Buffer[] = [];
  #wake: (() => void) | undefined;
  readonly closed: Promise<void>;
  #isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#reader.push(chunk);
      for (let frame = this.#reader.next(); frame; frame = this.#reader.next()) this.#frames.push(Buffer.from(frame));
      this.#wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        this.#wake?.();
        resolve();
      }),
    );
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  static open(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens and authenticates (client side of the handshake: answer, then challenge). */
  static async authenticated(path: string, key: Uint8Array): Promise<RawClient> {
    const client = await RawClient.open(path);
    await client.handshake(key);
    return client;
  }

  async handshake(key: Uint8Array): Promise<void> {
    const challenge = (await this.nextBytes()).subarray('#CHALLENGE#'.length);
    this.sendBytes(Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', key).update(challenge).digest()]));
    const welcome = (await this.nextBytes()).toString();
    if (welcome !== '#WELCOME#') throw new Error(`handshake rejected: ${welcome}`);
    const mine = Buffer.concat([Buffer.from('{sha256}'), randomBytes(40)]);
    this.sendBytes(Buffer.concat([Buffer.from('#CHALLENGE#'), mine]));
    const answer = await this.nextBytes();
    const expected = Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', key).update(mine).digest()]);
    if (!answer.equals(expected)) throw new Error('the server answered the challenge wrongly');
    this.sendBytes(Buffer.from('#WELCOME#'));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytesFrame(bytes));
  }

  send(value: unknown): void {
    this.socket.write(valueFrame(value));
  }

  async nextFrame(): Promise<Buffer> {
    while (this.#frames.length === 0) {
      if (this.#isClosed) throw new Error('closed');
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return this.#frames.shift()!;
  }

  async nextBytes(): Promise<Buffer> {
    return (await this.nextFrame()).subarray(5);
  }

  async reply(): Promise<unknown[]> {
    return frameValue(await this.nextFrame()) as unknown[];
  }

  /** A request and its reply: [callId, ok, value]. */
  async request(message: unknown[]): Promise<unknown[]> {
    this.send(message);
    return this.reply();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
