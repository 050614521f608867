import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { problemOf, Problem } from './errors';

export interface Loaded<T> {
  data: T | null;
  problem: Problem | null;
  loading: boolean;
  reload(): void;
}

/** Loads with `load` now, again on `reload()`, and every `everyMs` when given. */
export function useLoad<T>(load: () => Promise<T>, everyMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; problem: Problem | null; loading: boolean }>({ data: null, problem: null, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => {
    loadRef.current().then(
      (data) => setState({ data, problem: null, loading: false }),
      (e) => setState((s) => ({ data: s.data, problem: problemOf(e), loading: false })),
    );
  }, []);
  useEffect(() => {
    reload();
    if (everyMs <= 0) return undefined;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { ...state, reload };
}

export type LiveState = 'connecting' | 'live' | 'offline';

/**
 * Calls `onEvent` for every AMS event (the admin events socket, `/ams/1.0/events`), coalesced
 * to one call per 250 ms. The token goes in the WebSocket subprotocol list, not the URL.
 */
export function useAmsEvents(token: string, onEvent: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let pending: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const open = () => {
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ams/1.0/events`;
      socket = new WebSocket(url, ['streamstack.events', `bearer.${token}`]);
      socket.onopen = () => setState('live');
      socket.onmessage = () => {
        pending ??= setTimeout(() => {
          pending = undefined;
          handler.current();
        }, 250);
      };
      socket.onclose = () => {
        if (stopped) return;
        setState('offline');
        retry = setTimeout(open, 3000);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(pending);
      socket?.close();
    };
  }, [token]);
  return state;
}
