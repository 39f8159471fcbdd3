// The part of an exchange spent waiting for the upstream: from sending the request to its reply
// headers, and while the reply streams, from handling one body chunk to the arrival of the next (or
// the end). The sidecar's own time per message is its latency less this wait, so a slow tool or a
// long stream does not count as time the sidecar added. (A reply paused by a slow client's
// backpressure counts as waiting too: that is not the sidecar's work either.)

export class UpstreamWait {
  /** Milliseconds waited so far. */
  ms = 0;
  #since = -1;

  /** The sidecar has nothing to do until the upstream sends more. */
  start(): void {
    this.#since = performance.now();
  }

  /** The upstream answered (headers, a chunk, the end, an error); a no-op when not waiting. */
  stop(at = performance.now()): void {
    if (this.#since < 0) return;
    this.ms += at - this.#since;
    this.#since = -1;
  }
}
