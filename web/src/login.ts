// Login: POST /api/auth/login; 401 shows the server's message, 429 shows when to retry (counting down).
import { ApiError, api, type Me } from "./api";
import { h } from "./dom";

export function mountLogin(root: HTMLElement, onDone: (me: Me) => void): () => void {
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autofocus: true, "data-testid": "login-username" });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const btn = h("button", { type: "submit", "data-testid": "login-submit" }, "Sign in");
  const msg = h("div", { class: "error", "data-testid": "login-error", role: "alert" });
  let timer = 0;
  const form = h(
    "form",
    { class: "login", "data-testid": "login-form" },
    h("h1", {}, "camgrid control room"),
    h("label", {}, "User", user),
    h("label", {}, "Password", pass),
    btn,
    msg,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.textContent = "";
    btn.disabled = true;
    api
      .login(user.value.trim(), pass.value)
      .then(onDone)
      .catch((err: ApiError) => {
        if (err.status === 429) {
          let left = Math.ceil(Number(err.body.retry_after_s ?? 60));
          const tick = () => {
            msg.textContent = `too many failed logins: try again in ${left} s`;
            msg.dataset.retryAfterS = String(left);
            if (left-- > 0) timer = window.setTimeout(tick, 1000);
            else {
              btn.disabled = false;
              msg.textContent = "you can try again now";
            }
          };
          tick();
          return;
        }
        btn.disabled = false;
        msg.textContent = err.status === 401 ? err.detail || "wrong user name or password" : `cannot sign in: ${err.detail}`;
      });
  });
  root.append(h("div", { class: "screen login-screen" }, form));
  user.focus();
  return () => window.clearTimeout(timer);
}
