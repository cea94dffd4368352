/**
 * The enqueued bundles of a run that still have a task to finish, looked at in turn: each look
 * takes the next few from where the last one stopped, so a periodic check for vanished jobs costs
 * the same at any run size (looking at every pending bundle each time made a run's queue work
 * quadratic in its size), and every bundle comes round once per `size / limit` looks. A finished
 * bundle is dropped when a look passes it.
 */
export class OpenBundles<B extends { id: string }> {
  private readonly byId: Map<string, B>;
  private cursor: IterableIterator<B>;

  constructor(
    bundles: Iterable<B>,
    /** Whether a bundle still has a task to finish. */
    private readonly isOpen: (bundle: B) => boolean,
  ) {
    this.byId = new Map([...bundles].map((b) => [b.id, b]));
    this.cursor = this.byId.values();
  }

  /** Bundles held (open, or finished and not yet passed by a look). */
  get size(): number {
    return this.byId.size;
  }

  /**
   * The open bundles among the next `limit` held ones, in turn (`Infinity`: every one, each once,
   * starting where the last look stopped).
   */
  next(limit: number): B[] {
    const out: B[] = [];
    let budget = Math.min(limit, this.byId.size);
    let restarted = false;
    while (budget > 0) {
      const next = this.cursor.next();
      if (next.done) {
        if (restarted) break;
        restarted = true;
        this.cursor = this.byId.values();
        continue;
      }
      budget--;
      if (this.isOpen(next.value)) out.push(next.value);
      else this.byId.delete(next.value.id);
    }
    return out;
  }

  /** A bundle enqueued again as `rest` (what was left of it), or dropped when nothing was. */
  replace(bundle: B, rest: B | undefined): void {
    this.byId.delete(bundle.id);
    if (rest) this.byId.set(rest.id, rest);
  }
}
