import { useEffect, useState } from "react";
import { AUTH_REQUIRED, getToken, setToken } from "./auth";
import { FlowList } from "./components/FlowList";
import { FlowView } from "./pages/FlowView";
import { Overview } from "./pages/Overview";
import { BASE, isTyping, navigate, useRoute } from "./router";
import { liveSocket, type ConnectionStatus } from "./ws";

export type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("argyll-theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

const SHORTCUTS: [string, string][] = [
  ["click / Enter", "select a step as the goal"],
  ["Ctrl/Cmd + click / Ctrl + Enter", "add or remove a goal"],
  ["Esc", "clear the goals, close panels"],
  ["/", "search flows"],
  ["s", "search steps"],
  ["n", "new step (JSON editor)"],
  ["f", "fit the graph (the plan, when one is selected)"],
  ["g", "go to the overview"],
  ["t", "switch dark / light theme"],
  ["?", "show this help"],
];

export function App() {
  const route = useRoute();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [help, setHelp] = useState(false);
  const [conn, setConn] = useState<ConnectionStatus>("connecting");
  const [auth, setAuth] = useState<string | null>(null);

  useEffect(() => {
    const on = (e: Event) => setAuth((e as CustomEvent<string>).detail || "this engine needs an API token");
    window.addEventListener(AUTH_REQUIRED, on);
    return () => window.removeEventListener(AUTH_REQUIRED, on);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("argyll-theme", theme);
  }, [theme]);

  useEffect(() => liveSocket().onStatus(setConn), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setHelp(false);
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "t") setTheme((t) => (t === "dark" ? "light" : "dark"));
      else if (e.key === "?") setHelp((h) => !h);
      else if (e.key === "g") navigate(BASE);
      else if (e.key === "/") {
        e.preventDefault();
        document.getElementById("flow-search")?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <a
          className="brand"
          href={BASE}
          onClick={(e) => {
            e.preventDefault();
            navigate(BASE);
          }}
        >
          Argyll
        </a>
        <nav>
          <a
            href={BASE}
            className={route.page === "overview" ? "active" : ""}
            onClick={(e) => {
              e.preventDefault();
              navigate(BASE);
            }}
          >
            Steps
          </a>
        </nav>
        <span className="spacer" />
        <span className={`conn conn-${conn}`} data-testid="connection" title="live updates over the WebSocket">
          {conn === "open" ? "live" : conn}
        </span>
        {getToken() && (
          <button className="ghost" data-testid="token-button" onClick={() => setAuth("")} title="API token">
            🔑
          </button>
        )}
        <button className="ghost" onClick={() => setHelp((h) => !h)} title="keyboard shortcuts (?)">
          ?
        </button>
        <button
          className="ghost"
          data-testid="theme-toggle"
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          title="switch theme (t)"
        >
          {theme === "dark" ? "☀ light" : "☾ dark"}
        </button>
      </header>
      <div className="body">
        <FlowList selected={route.page === "flow" ? route.id : ""} />
        <main className="main">
          {route.page === "flow" ? <FlowView key={route.id} id={route.id} theme={theme} /> : <Overview theme={theme} />}
        </main>
      </div>
      {auth !== null && <TokenDialog message={auth} onClose={() => setAuth(null)} />}
      {help && (
        <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onClick={() => setHelp(false)}>
          <div className="modal-box" onClick={(e) => e.stopPropagation()}>
            <h3>Keyboard</h3>
            <table>
              <tbody>
                {SHORTCUTS.map(([k, v]) => (
                  <tr key={k}>
                    <td>
                      <kbd>{k}</kbd>
                    </td>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}

/** Asks for the API token of an engine started with API_TOKENS; saving reloads the app with it. */
function TokenDialog({ message, onClose }: { message: string; onClose: () => void }) {
  const [value, setValue] = useState(getToken());
  const save = (token: string) => {
    setToken(token.trim());
    location.reload();
  };
  return (
    <div className="modal" role="dialog" aria-label="API token">
      <form
        className="modal-box"
        onSubmit={(e) => {
          e.preventDefault();
          save(value);
        }}
      >
        <h3>API token</h3>
        {message && (
          <p className="error" data-testid="token-message">
            {message}
          </p>
        )}
        <p className="muted">
          This engine checks bearer tokens (<code>API_TOKENS</code>). The token is kept in this browser only.
        </p>
        <input
          autoFocus
          type="password"
          data-testid="token-input"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="token"
          style={{ width: "100%" }}
        />
        <div className="buttons" style={{ marginTop: 10 }}>
          <button type="submit" className="primary" data-testid="token-save">
            Use token
          </button>
          {getToken() && (
            <button type="button" onClick={() => save("")}>
              Forget token
            </button>
          )}
          <button type="button" className="ghost" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
