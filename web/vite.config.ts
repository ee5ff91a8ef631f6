// Vite build for the control room. Output goes into the Python package so `camgrid serve` serves it;
// `npm run dev` proxies /api (HTTP and WebSocket) to a running `camgrid serve` on 127.0.0.1:8080.
import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const target = process.env.CAMGRID_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../src/camgrid/web/static", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { "/api": { target, changeOrigin: false, ws: true } },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
