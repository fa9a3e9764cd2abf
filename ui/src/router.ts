// Client-side routes under /ui/ (the engine answers every /ui/... path with the app).

import { useEffect, useState } from "react";

export const BASE = "/ui/";

export type Route = { page: "overview" } | { page: "flow"; id: string };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname.replace(/^\/+/, "");
  const m = /^flow\/(.+?)\/?$/.exec(rest);
  if (m) return { page: "flow", id: decodeURIComponent(m[1]) };
  return { page: "overview" };
}

export function flowPath(id: string): string {
  return `${BASE}flow/${encodeURIComponent(id)}`;
}

export function navigate(path: string): void {
  if (location.pathname === path) return;
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return parseRoute(path);
}

/** True when a key press belongs to a text field, not to a shortcut. */
export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  return t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable;
}
