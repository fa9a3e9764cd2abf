import { useMemo, useRef, useState, type UIEvent } from "react";
import type { FlowEvent } from "../types";

const ROW = 26;
const OVERSCAN = 10;

function summary(e: FlowEvent): string {
  const d = e.data;
  const parts: string[] = [];
  if (typeof d.step_id === "string") parts.push(d.step_id);
  if (typeof d.key === "string") parts.push(`${d.key} = ${JSON.stringify(d.value)?.slice(0, 40)}`);
  if (typeof d.token === "string") parts.push(d.token.slice(0, 8));
  if (typeof d.error === "string") parts.push(d.error);
  if (typeof d.reason === "string") parts.push(d.reason);
  return parts.join(" · ");
}

/** The flow's events, filterable by type; a click shows the payload. Renders only visible rows. */
export function Timeline({ events }: { events: FlowEvent[] }) {
  const [type, setType] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(400);
  const box = useRef<HTMLDivElement>(null);

  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [events]);
  const shown = useMemo(() => (type ? events.filter((e) => e.type === type) : events), [events, type]);
  const first = Math.max(0, Math.floor(scroll / ROW) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scroll + height) / ROW) + OVERSCAN);
  const selected = open === null ? undefined : events.find((e) => e.sequence === open);
  const t0 = events.length ? Date.parse(events[0].timestamp) : 0;

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    setScroll(e.currentTarget.scrollTop);
    setHeight(e.currentTarget.clientHeight);
  };

  return (
    <div className="timeline" data-testid="event-timeline">
      <div className="row">
        <select data-testid="timeline-filter" value={type} onChange={(e) => setType(e.target.value)} aria-label="event type">
          <option value="">all events ({events.length})</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <span className="muted small">{shown.length} shown</span>
      </div>
      <div className="timeline-rows" ref={box} onScroll={onScroll}>
        <div style={{ height: shown.length * ROW, position: "relative" }}>
          {shown.slice(first, last).map((e, i) => (
            <button
              key={e.sequence}
              className={`event-row ev-${e.type} ${open === e.sequence ? "on" : ""}`}
              style={{ top: (first + i) * ROW, height: ROW }}
              data-testid={`event-${e.sequence}`}
              data-type={e.type}
              onClick={() => setOpen(open === e.sequence ? null : e.sequence)}
            >
              <span className="seq">{e.sequence}</span>
              <span className="etime">+{((Date.parse(e.timestamp) - t0) / 1000).toFixed(3)}s</span>
              <span className="etype">{e.type}</span>
              <span className="esum">{summary(e)}</span>
            </button>
          ))}
        </div>
      </div>
      {selected && (
        <div className="payload">
          <div className="panel-head">
            <b>
              #{selected.sequence} {selected.type}
            </b>
            <span className="muted small">{selected.timestamp}</span>
          </div>
          <pre data-testid="event-payload">{JSON.stringify(selected.data, null, 2)}</pre>
        </div>
      )}
    </div>
  );
}
