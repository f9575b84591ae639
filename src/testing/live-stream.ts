/**
 * The console's live alert stream (`/api/console/events`) as a test reads it: opened with a key, its text
 * gathered as it comes. `track` collects its controller, for the file's `after` to abort what is open.
 */
export interface LiveStream {
  status: number;
  retryAfter: string | null;
  /** Everything received so far (the answer's body, when it was refused). */
  text(): string;
  ended(): boolean;
  close(): void;
}

export async function openLiveStream(
  baseUrl: string,
  key: string,
  options: { query?: string; track?: AbortController[] } = {},
): Promise<LiveStream> {
  const controller = new AbortController();
  options.track?.push(controller);
  const response = await fetch(`${baseUrl}/api/console/events${options.query ?? ''}`, {
    headers: { authorization: `GenieKey ${key}` },
    signal: controller.signal,
  });
  let received = '';
  let ended = false;
  if (response.ok && response.body)
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += decoder.decode(chunk);
    })()
      .catch(() => {})
      .finally(() => (ended = true));
  else received = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    text: () => received,
    ended: () => ended,
    close: () => controller.abort(),
  };
}
