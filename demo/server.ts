import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server on 127.0.0.1 that answers every request after `latencyMs`, like a slow upstream API. */
export interface SlowServer {
  url: string;
  /** Most requests the server was handling at the same moment. */
  readonly peakInFlight: number;
  resetPeak(): void;
  close(): Promise<void>;
}

export async function startSlowServer(latencyMs: number): Promise<SlowServer> {
  let inFlight = 0;
  let peak = 0;
  const server: Server = createServer((_request, response) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok '.repeat(100));
    }, latencyMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    get peakInFlight() {
      return peak;
    },
    resetPeak() {
      peak = inFlight;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
