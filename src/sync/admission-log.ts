/**
 * The sliding-window log behind {@link RateLimiter}: the admissions of the last `interval` ms, oldest first, each as
 * its time and the running total of weight admitted up to and including it. Internal.
 *
 * Every entry weighs at least 1 and the weights in the window sum to at most `limit`, so the log never holds more
 * than `limit` entries: memory is bounded by the limit, not by traffic. Adding, expiring and finding when a weight
 * will fit are O(1) amortised.
 */

/** An emptied log keeps its arrays up to this many entries, so a busy limiter does not reallocate every burst. */
const SHRINK_ABOVE = 1024;
const NO_ENTRIES = new Float64Array(0);

export class AdmissionLog {
  /** Admission time of each entry (`performance.now()` ms), in a ring starting at {@link first}. */
  private times: Float64Array = NO_ENTRIES;
  /** Weight admitted ever, up to and including each entry. */
  private totals: Float64Array = NO_ENTRIES;
  /** Slot of the oldest entry. */
  private first = 0;
  /** Sequence number of the oldest entry (entries are numbered from 0 in admission order). */
  private firstSeq = 0;
  /** Entries held. */
  private count = 0;
  /** Weight admitted ever. */
  private admitted = 0;
  /** Weight admitted ever by entries that have left the window. */
  private expired = 0;

  constructor(
    private readonly limit: number,
    private readonly interval: number,
  ) {}

  /** Weight admitted in the window, as of the last {@link expire}. */
  get used(): number {
    return this.admitted - this.expired;
  }

  /** Entries the ring can hold now: at most `limit`, however much traffic passed. */
  get capacity(): number {
    return this.times.length;
  }

  /**
   * Drops the entries admitted `interval` ms or more before `now`, oldest first. Times need not be in order (a run
   * counts from when its function starts, see {@link stamp}): an entry then waits for the ones before it, which only
   * ever keeps it longer.
   */
  expire(now: number): void {
    const cutoff = now - this.interval;
    while (this.count !== 0 && this.times[this.first]! <= cutoff) {
      this.expired = this.totals[this.first]!;
      this.first = this.first + 1 === this.times.length ? 0 : this.first + 1;
      this.firstSeq++;
      this.count--;
    }
    if (this.count === 0 && this.times.length > SHRINK_ABOVE) this.times = this.totals = NO_ENTRIES;
  }

  /** Records an admission of `weight` at `now` (which must fit, after {@link expire}); returns its sequence number. */
  add(now: number, weight: number): number {
    if (this.count === this.times.length) this.grow();
    const slot = this.slot(this.firstSeq + this.count);
    this.admitted += weight;
    this.times[slot] = now;
    this.totals[slot] = this.admitted;
    return this.firstSeq + this.count++;
  }

  /**
   * Sets the time of entry `seq`, added at `Infinity` when a `run` was admitted, to `now`, when its function really
   * starts. (Until then the entry cannot leave the window, so it is still there.)
   */
  stamp(seq: number, now: number): void {
    this.times[this.slot(seq)] = now;
  }

  /**
   * When `weight` more will fit: the time at which enough of the oldest entries have left the window. Call only when
   * it does not fit now (so the log is not empty).
   */
  fitsAt(weight: number): number {
    // Walks from the oldest entry to the first whose leaving frees enough (a running total of at least `needed`);
    // each entry leaves no earlier than those before it. The entries walked leave before the waiter is admitted, so
    // a walk costs O(1) per admission, amortised.
    const needed = this.admitted + weight - this.limit;
    let time = -Infinity;
    for (let seq = this.firstSeq; ; seq++) {
      const slot = this.slot(seq);
      time = Math.max(time, this.times[slot]!);
      if (this.totals[slot]! >= needed) return time + this.interval;
    }
  }

  private slot(seq: number): number {
    const index = this.first + (seq - this.firstSeq);
    return index < this.times.length ? index : index - this.times.length;
  }

  /** Full: moves the entries, in order, into arrays twice as long (never longer than `limit`). */
  private grow(): void {
    const capacity = Math.min(Math.max(this.times.length * 2, 16), this.limit);
    const times = new Float64Array(capacity);
    const totals = new Float64Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const slot = this.slot(this.firstSeq + i);
      times[i] = this.times[slot]!;
      totals[i] = this.totals[slot]!;
    }
    this.times = times;
    this.totals = totals;
    this.first = 0;
  }
}
