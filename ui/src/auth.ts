// The API token for engines started with API_TOKENS, kept in this browser.

const KEY = "argyll-token";
export const AUTH_REQUIRED = "argyll-auth-required";

export function getToken(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
}

/** Tells the app that the engine asked for a (valid) token. */
export function authRequired(message: string): void {
  window.dispatchEvent(new CustomEvent(AUTH_REQUIRED, { detail: message }));
}
