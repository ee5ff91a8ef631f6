// Vite build for the control room. Output goes into the Python package so `camgrid serve` serves it;
// `npm run dev` proxies /api (HTTP and WebSocket) to a running `camgrid serve` on 127.0.0.1:8080.
import { defineConfig, type Plugin } from "vitest/config";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The fonts of the city's scripts come from Debian's packages (fonts-noto-core, in the Makefile's APT_PACKAGES),
// copied into the bundle at build time and served from /assets/fonts (CSP font-src 'self'): nothing from the
// internet. style.css names them with a unicode-range, so a browser loads one only when a page shows that script.
const FONT_DIR = "/usr/share/fonts/truetype/noto";
export const FONTS = ["NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"];

function debianFonts(): Plugin {
  return {
    name: "camgrid-debian-fonts",
    apply: "build",
    writeBundle(opts) {
      const out = `${opts.dir}/assets/fonts`;
      mkdirSync(out, { recursive: true });
      const missing = FONTS.filter((f) => !existsSync(`${FONT_DIR}/${f}`));
      if (missing.length) throw new Error(`fonts missing (apt-get install fonts-noto-core, or make deps): ${missing.join(", ")}`);
      for (const f of FONTS) copyFileSync(`${FONT_DIR}/${f}`, `${out}/${f}`);
    },
  };
}

const target = process.env.CAMGRID_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  plugins: [debianFonts()],
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
