// One shared WebSocket to /engine/ws: subscriptions that survive reconnects,
// a keep-alive ping, and event delivery batched per subscription.

import { getToken } from "./auth";

export interface SubscribedItem {
  id: string[];
  data: unknown;
  sequence: number;
}

export interface WsEvent {
  type: string;
  sub_id: string;
  data: Record<string, unknown>;
  id: string[];
  timestamp: number;
  sequence: number;
}

export interface Handlers {
  /** The snapshot reply (`items`); also after each reconnect. */
  onState: (items: SubscribedItem[]) => void;
  /** Events in arrival order, batched (at most one call per ~16 ms). */
  onEvents: (events: WsEvent[]) => void;
}

interface Sub {
  request: { sub_id: string; aggregate_ids: string[][]; event_types?: string[]; include_state: boolean };
  handlers: Handlers;
}

export type ConnectionStatus = "connecting" | "open" | "closed";

const PING_MS = 25_000;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private subs = new Map<string, Sub>();
  private pending = new Map<string, WsEvent[]>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private retryMs = 500;
  private nextId = 0;
  private listeners = new Set<(s: ConnectionStatus) => void>();
  status: ConnectionStatus = "connecting";

  constructor(private readonly url: string) {
    this.connect();
  }

  onStatus(fn: (s: ConnectionStatus) => void): () => void {
    this.listeners.add(fn);
    fn(this.status);
    return () => this.listeners.delete(fn);
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const fn of this.listeners) fn(s);
  }

  private connect(): void {
    const token = getToken();
    // browsers cannot set headers on a WebSocket: the token goes as the subprotocol pair
    const ws = token ? new WebSocket(this.url, ["bearer", token]) : new WebSocket(this.url);
    this.ws = ws;
    this.setStatus("connecting");
    ws.onopen = () => {
      this.retryMs = 500;
      this.setStatus("open");
      for (const sub of this.subs.values()) this.send({ type: "subscribe", data: sub.request });
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_MS);
    };
    ws.onmessage = (m) => this.receive(String(m.data));
    ws.onclose = () => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      if (this.ws !== ws) return;
      this.setStatus("closed");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private send(msg: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private receive(text: string): void {
    let msg: { type: string; sub_id?: string; items?: SubscribedItem[] | null };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "subscribed") {
      const sub = this.subs.get(msg.sub_id ?? "");
      this.pending.delete(msg.sub_id ?? "");
      sub?.handlers.onState(msg.items ?? []);
      return;
    }
    if (msg.type === "unsubscribed" || msg.type === "error" || !msg.sub_id) return;
    if (!this.subs.has(msg.sub_id)) return;
    const list = this.pending.get(msg.sub_id) ?? [];
    list.push(msg as WsEvent);
    this.pending.set(msg.sub_id, list);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 16);
  }

  private flush(): void {
    this.flushTimer = null;
    const batches = this.pending;
    this.pending = new Map();
    for (const [subId, events] of batches) this.subs.get(subId)?.handlers.onEvents(events);
  }

  /** Subscribes; returns the function that unsubscribes. */
  subscribe(aggregateIds: string[][], handlers: Handlers, eventTypes?: string[], includeState = true): () => void {
    const sub_id = `s${++this.nextId}`;
    const request = { sub_id, aggregate_ids: aggregateIds, event_types: eventTypes, include_state: includeState };
    this.subs.set(sub_id, { request, handlers });
    this.send({ type: "subscribe", data: request });
    return () => {
      this.subs.delete(sub_id);
      this.pending.delete(sub_id);
      this.send({ type: "unsubscribe", data: { sub_id } });
    };
  }
}

let shared: LiveSocket | null = null;

export function liveSocket(): LiveSocket {
  if (!shared) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    shared = new LiveSocket(`${proto}//${location.host}/engine/ws`);
  }
  return shared;
}
