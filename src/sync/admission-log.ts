/**
 * The sliding-window log behind {@link RateLimiter}: the admissions of the last `interval` ms, oldest first, each as
 * its time and the running total of weight admitted up to and including it. Internal.
 *
 * Every entry weighs at least 1 and the weights in the window sum to at most `limit`, so the log never holds more
 * than `limit` entries: memory is bounded by the limit, not by traffic. Adding and expiring are O(1) amortised;
 * finding when a weight will fit is a binary search over the running totals.
 */

/** An emptied log keeps its arrays up to this many entries, so a busy limiter does not reallocate every burst. */
const SHRINK_ABOVE = 1024;
const NO_ENTRIES = new Float64Array(0);

export class AdmissionLog {
  /** Admission time of each entry (`performance.now()` ms), in a ring starting at {@link first}. */
  private times: Float64Array = NO_ENTRIES;
  /** Weight admitted ever, up to and including each entry: strictly increasing, so binary-searchable. */
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
  /**
   * The last entry restamped by {@link stamp}, and its new time. Entries after it were added no later than that
   * time, and count as admitted at it until they are restamped or materialised: times stay non-decreasing.
   */
  private stampSeq = -1;
  private stampTime = -Infinity;

  constructor(
    private readonly limit: number,
    private readonly interval: number,
  ) {}

  /** Weight admitted in the window, as of the last {@link expire}. */
  get used(): number {
    return this.admitted - this.expired;
  }

  /** Drops the entries admitted `interval` ms or more before `now`. */
  expire(now: number): void {
    const cutoff = now - this.interval;
    while (this.count !== 0 && this.timeAt(this.firstSeq) <= cutoff) {
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
   * Moves the admission time of entry `seq` forward to `now`, when the admitted `run` function really starts. Entries
   * are restamped in the order they were added, each at a time no earlier than the one before.
   */
  stamp(seq: number, now: number): void {
    if (seq < this.firstSeq) return;
    // The entries between the previous restamp and this one keep the previous restamp's time as a floor.
    for (let s = Math.max(this.stampSeq + 1, this.firstSeq); s < seq; s++) {
      const slot = this.slot(s);
      if (this.times[slot]! < this.stampTime) this.times[slot] = this.stampTime;
    }
    this.times[this.slot(seq)] = now;
    this.stampSeq = seq;
    this.stampTime = now;
  }

  /**
   * When `weight` more will fit: the time at which enough of the oldest entries have left the window. Call only when
   * it does not fit now (so the log is not empty).
   */
  fitsAt(weight: number): number {
    // The oldest entry whose leaving frees enough: the first with a running total of at least `needed`.
    const needed = this.admitted + weight - this.limit;
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.totals[this.slot(this.firstSeq + mid)]! >= needed) high = mid;
      else low = mid + 1;
    }
    return this.timeAt(this.firstSeq + low) + this.interval;
  }

  private timeAt(seq: number): number {
    const time = this.times[this.slot(seq)]!;
    return seq > this.stampSeq && time < this.stampTime ? this.stampTime : time;
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
