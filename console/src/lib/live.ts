// The browser's end of a console WebSocket (/ws/...): same origin, so the
// session cookie authenticates it and no token ever reaches this code.
// Reconnects with backoff; close codes 4401/4403 mean the session is gone.

export type LiveStatus = 'connecting' | 'open' | 'closed';

export interface LiveOptions {
  onMessage: (data: string | ArrayBuffer) => void;
  onStatus?: (status: LiveStatus, detail?: string) => void;
  /** Called after a reconnect (not the first open): events may have been missed. */
  onReconnect?: () => void;
  /** Reconnect after a close; default true. Terminals and log tails pass false. */
  reconnect?: boolean;
}

export interface Live {
  send(data: string): boolean;
  close(): void;
}

export function wsUrl(path: string): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${path}`;
}

export function connect(path: string, opts: LiveOptions): Live {
  let socket: WebSocket | undefined;
  let stopped = false;
  let attempts = 0;
  let opened = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    opts.onStatus?.('connecting');
    const ws = new WebSocket(wsUrl(path));
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      attempts = 0;
      opts.onStatus?.('open');
      if (opened) opts.onReconnect?.();
      opened = true;
    };
    ws.onmessage = (m) => opts.onMessage(m.data as string | ArrayBuffer);
    ws.onclose = (c) => {
      // Closed by the page itself: it knows, and must not hear about it late.
      if (socket !== ws || stopped) return;
      if (c.code === 4401) {
        // The session ended (signed out elsewhere, expired, disabled).
        window.location.assign(`/login?expired=1&next=${encodeURIComponent(window.location.pathname)}`);
        return;
      }
      opts.onStatus?.('closed', c.reason || (c.code === 1006 ? 'connection lost' : `closed (${c.code})`));
      if (stopped || opts.reconnect === false || c.code === 4403 || c.code === 4404 || c.code === 4400) return;
      const delay = Math.min(15_000, 500 * 2 ** attempts++);
      timer = setTimeout(open, delay);
    };
  };
  open();
  return {
    send: (data) => (socket?.readyState === WebSocket.OPEN ? (socket.send(data), true) : false),
    close() {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000, 'closed by the page');
    }
  };
}
