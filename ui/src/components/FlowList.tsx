import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api";
import { FLOW_LIST_EVENTS, STATUS_ICON, applyFlowListEvent, flowQuery, type FlowFilters } from "../logic/flows";
import { parseLabels } from "../logic/plan";
import { flowPath, navigate } from "../router";
import type { FlowSummary } from "../types";
import { liveSocket } from "../ws";

const PAGE = 50;

function timeText(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString();
}

/** Recent flows (left sidebar): search by ID prefix, filter by status and labels, live. */
export function FlowList({ selected }: { selected: string }) {
  const [prefix, setPrefix] = useState("");
  const [status, setStatus] = useState("");
  const [labelText, setLabelText] = useState("");
  const [rows, setRows] = useState<FlowSummary[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [total, setTotal] = useState(0);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const filtersRef = useRef<FlowFilters>({ idPrefix: "", status: "", labels: {} });
  const generation = useRef(0);

  const load = useCallback(async (filters: FlowFilters, after?: string) => {
    const gen = after ? generation.current : ++generation.current;
    setLoading(true);
    try {
      const res = await api.queryFlows(flowQuery(filters, PAGE, after));
      if (gen !== generation.current) return;
      setRows((prev) => (after ? [...prev, ...res.flows.filter((f) => !prev.some((p) => p.id === f.id))] : res.flows));
      setCursor(res.has_more ? res.next_cursor : undefined);
      setTotal(res.total ?? res.flows.length);
      setError("");
    } catch (e) {
      if (gen === generation.current) setError((e as Error).message);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, []);

  // (re)load when the filters change, a little after the last key press
  useEffect(() => {
    const { labels, error: labelError } = parseLabels(labelText);
    if (labelError) {
      setError(labelError);
      return;
    }
    const filters = { idPrefix: prefix.trim().toLowerCase(), status, labels };
    filtersRef.current = filters;
    setCursor(undefined); // the next page of the old filters is not wanted any more
    const t = setTimeout(() => void load(filters), 150);
    return () => clearTimeout(t);
  }, [prefix, status, labelText, load]);

  // live: new flows appear, finished flows change status
  useEffect(
    () =>
      liveSocket().subscribe(
        [["flow"]],
        {
          onState: () => void load(filtersRef.current),
          onEvents: (events) => {
            setRows((prev) => {
              let next = prev;
              for (const e of events) {
                next = applyFlowListEvent(next, filtersRef.current, e.type, e.data, new Date(e.timestamp).toISOString());
              }
              return next;
            });
          },
        },
        FLOW_LIST_EVENTS,
        false,
      ),
    [load],
  );

  return (
    <aside className="flowlist" aria-label="Flows">
      <div className="flowlist-head">
        <h2>Flows</h2>
        <span className="muted" data-testid="flow-count">
          {rows.length ? `${rows.length} of ${Math.max(total, rows.length)}` : ""}
        </span>
      </div>
      <div className="filters">
        <input
          id="flow-search"
          data-testid="flow-search"
          placeholder="search ID prefix  ( / )"
          value={prefix}
          onChange={(e) => setPrefix(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && (e.target as HTMLInputElement).blur()}
        />
        <div className="row">
          <select data-testid="flow-status-filter" value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status">
            <option value="">all statuses</option>
            <option value="active">active</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
          <input
            data-testid="flow-label-filter"
            placeholder="label=value"
            value={labelText}
            onChange={(e) => setLabelText(e.target.value)}
          />
        </div>
      </div>
      {error && <div className="error small">{error}</div>}
      <ul className="flows" data-testid="flow-list">
        {rows.map((r) => (
          <li key={r.id}>
            <a
              href={flowPath(r.id)}
              data-testid={`flow-row-${r.id}`}
              data-status={r.status}
              className={`flow-row status-${r.status} ${r.id === selected ? "selected" : ""}`}
              onClick={(e) => {
                e.preventDefault();
                navigate(flowPath(r.id));
              }}
            >
              <span className={`icon status-${r.status}`} title={r.status}>
                {STATUS_ICON[r.status] ?? "?"}
              </span>
              <span className="flow-id">{r.id}</span>
              <span className="muted time">{timeText(r.timestamp)}</span>
            </a>
          </li>
        ))}
        {!rows.length && !loading && <li className="muted empty">no flows</li>}
      </ul>
      {cursor && (
        <button data-testid="flow-load-more" disabled={loading} onClick={() => void load(filtersRef.current, cursor)}>
          Load more
        </button>
      )}
    </aside>
  );
}
