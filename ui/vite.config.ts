/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The engine serves the build at /ui/ from the Python package (scripts/build-ui).
// `npm run dev` proxies the API to an engine on 127.0.0.1:8080.
export default defineConfig({
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: "../argyll/engine/server/ui_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      "/engine": { target: "http://127.0.0.1:8080", ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
