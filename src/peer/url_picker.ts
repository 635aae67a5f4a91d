/**
 * Which of a peer's URLs to use: the current one until it fails, then the
 * next, as etcd's urlPicker.
 *
 * @module
 */

/** A sticky URL choice with failover. */
export class UrlPicker {
  #urls: string[];
  #index = 0;

  /** Creates a picker over sorted, normalised URLs. */
  constructor(urls: string[]) {
    this.#urls = urls;
  }

  /** The URL to use now. */
  pick(): string {
    return this.#urls[this.#index];
  }

  /** All URLs. */
  get urls(): readonly string[] {
    return this.#urls;
  }

  /** Replaces the URLs and starts over from the first. */
  update(urls: string[]): void {
    this.#urls = urls;
    this.#index = 0;
  }

  /**
   * Moves to the next URL if `url` is still the current one, so that many
   * workers reporting the same failure advance it once.
   */
  unreachable(url: string): void {
    if (this.#urls[this.#index] === url) this.#index = (this.#index + 1) % this.#urls.length;
  }
}
