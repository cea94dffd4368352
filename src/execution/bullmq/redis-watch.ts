import type { Redis } from 'ioredis';
import type { PerceiveError } from '../../core/errors.js';

/**
 * Watches the run process's Redis connection: Redis going away is a named, bounded state. The
 * first refused reconnect starts an outage (`onDown`, once); the connection being ready again ends
 * it (`onBack`). `guard` races a piece of queue work (whose commands wait in ioredis's offline
 * queue while Redis is away) against the outage lasting longer than `waitMs`, then it fails
 * with 'redis-lost'.
 */
export class RedisWatch {
  private downSince: number | undefined;
  private lastError = '';
  private backAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private giveUp: ((error: PerceiveError) => void) | undefined;
  private readonly lost: Promise<never>;

  constructor(
    private readonly redis: Redis,
    private readonly o: {
      url: string;
      waitMs: number;
      onDown: (since: Date, error: string) => void;
      onBack: (downMs: number) => void;
      lostError: (since: Date, error: string) => PerceiveError;
    },
  ) {
    this.lost = new Promise<never>((_, reject) => {
      this.giveUp = reject;
    });
    this.lost.catch(() => {});
    redis.on('error', this.onError);
    redis.on('close', this.onClose);
    redis.on('ready', this.onReady);
  }

  /** When the current outage began (undefined: Redis answers). */
  get since(): number | undefined {
    return this.downSince;
  }

  /** When Redis last came back after an outage (0: never went away). */
  get lastBack(): number {
    return this.backAt;
  }

  /** `work`, or the 'redis-lost' error once the outage outlasts the wait. */
  guard<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {}); // abandoned when Redis is lost; its commands fail when the connection closes
    return Promise.race([work, this.lost]);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.redis.off('error', this.onError);
    this.redis.off('close', this.onClose);
    this.redis.off('ready', this.onReady);
  }

  private readonly onError = (error: Error): void => {
    this.lastError = error.message;
    this.down();
  };

  private readonly onClose = (): void => this.down();

  private down(): void {
    if (this.downSince !== undefined) return;
    if (process.env.DEBUG_WATCH) console.error(new Error('down').stack);
    this.downSince = Date.now();
    const since = new Date(this.downSince);
    this.o.onDown(since, this.lastError);
    this.timer = setTimeout(() => this.giveUp?.(this.o.lostError(since, this.lastError)), this.o.waitMs);
  }

  private readonly onReady = (): void => {
    if (this.downSince === undefined) return;
    if (this.timer) clearTimeout(this.timer);
    this.backAt = Date.now();
    const ms = this.backAt - this.downSince;
    this.downSince = undefined;
    this.o.onBack(ms);
  };
}
