// Login: POST /api/auth/login; 401 shows the server's message, 429 shows when to retry (counting down).
// A user with a second factor (or whose role requires one) then gives a code from their authenticator app, or a
// recovery code; at a first login they enrol: the secret is shown as text (otpauth URI and key) this once, with
// their recovery codes (docs/design/sign-in.md).
import { ApiError, api, type Enrolment, type Me, type SecondFactorAsked } from "./api";
import { h } from "./dom";
import { t } from "./i18n";

function isAsked(r: Me | SecondFactorAsked): r is SecondFactorAsked {
  return "second_factor" in r;
}

export function mountLogin(root: HTMLElement, onDone: (me: Me) => void): () => void {
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autofocus: true, "data-testid": "login-username" });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const btn = h("button", { type: "submit", "data-testid": "login-submit" }, t("login.signIn"));
  const msg = h("div", { class: "error", "data-testid": "login-error", role: "alert" });
  let timer = 0;
  const form = h(
    "form",
    { class: "login", "data-testid": "login-form" },
    h("h1", {}, t("login.title")),
    h("label", {}, t("login.user"), user),
    h("label", {}, t("login.password"), pass),
    btn,
    msg,
  );
  const screen = h("div", { class: "screen login-screen" }, form);

  const refused = (err: ApiError, again: HTMLButtonElement, box: HTMLElement) => {
    if (err.status === 429) {
      let left = Math.ceil(Number(err.body.retry_after_s ?? 60));
      const tick = () => {
        box.textContent = t("login.throttled", { s: left });
        box.dataset.retryAfterS = String(left);
        if (left-- > 0) timer = window.setTimeout(tick, 1000);
        else {
          again.disabled = false;
          box.textContent = t("login.tryAgain");
        }
      };
      tick();
      return;
    }
    again.disabled = false;
    box.textContent = err.status === 401 ? err.detail || t("login.wrong") : t("login.cannot", { why: err.detail });
  };

  // The second step: a code for the ticket (after showing a new enrolment, when there is one).
  const askCode = (asked: SecondFactorAsked, enrolled: Enrolment | null) => {
    const code = h("input", {
      type: "text",
      name: "code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      required: true,
      maxlength: "40",
      "data-testid": "login-code",
    });
    const go = h("button", { type: "submit", "data-testid": "login-code-submit" }, t("login.verify"));
    const err = h("div", { class: "error", "data-testid": "login-code-error", role: "alert" });
    const parts: (HTMLElement | string)[] = [h("h1", {}, t("login.secondStep"))];
    if (enrolled) {
      parts.push(
        h("p", {}, t("login.enrolHelp")),
        h("label", {}, t("login.uri"), h("code", { class: "secret", "data-testid": "enrol-uri" }, enrolled.otpauth_uri)),
        h("label", {}, t("login.key"), h("code", { class: "secret", "data-testid": "enrol-secret" }, enrolled.secret)),
        h("p", {}, t("login.recoveryHelp")),
        h("ul", { class: "recovery", "data-testid": "enrol-recovery" }, ...enrolled.recovery_codes.map((c) => h("li", {}, c))),
      );
    } else {
      parts.push(h("p", {}, t("login.codeHelp")));
    }
    parts.push(h("label", {}, t("login.code"), code), go, err);
    const step = h("form", { class: "login", "data-testid": "login-code-form" }, ...parts);
    step.addEventListener("submit", (e) => {
      e.preventDefault();
      err.textContent = "";
      go.disabled = true;
      api
        .loginTotp(asked.ticket, code.value.trim())
        .then(onDone)
        .catch((x: ApiError) => {
          code.value = "";
          refused(x, go, err);
        });
    });
    form.replaceWith(step);
    code.focus();
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.textContent = "";
    btn.disabled = true;
    api
      .login(user.value.trim(), pass.value)
      .then((r) => {
        if (!isAsked(r)) return onDone(r);
        pass.value = "";
        if (r.second_factor === "enrol") return api.loginEnrol(r.ticket).then((made) => askCode(r, made));
        askCode(r, null);
      })
      .catch((err: ApiError) => refused(err, btn, msg));
  });
  root.append(screen);
  user.focus();
  return () => window.clearTimeout(timer);
}
