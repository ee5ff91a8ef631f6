// The admin's users screen (docs/design/users-life.md): create a user; per user set the role and districts, disable
// or enable, reset the password, end every session and token now, list and revoke script tokens, delete (the audit
// log keeps naming a deleted user; the name is never given again). The server scopes it: a district admin sees and
// manages only users within their districts. Every change ends the user's sessions, tokens and open live video.
import { ApiError, request, type Role } from "./api";
import type { components } from "./api-types";
import { clear, h } from "./dom";
import { me } from "./session";
import { timeEl } from "./time";
import { t } from "./i18n";

type Schemas = components["schemas"];
export type UserInfo = Schemas["UserOut"];
export type TokenInfo = Schemas["TokenOut"];
type Ended = Schemas["Ended"];
type TwoFactorReset = Schemas["TwoFactorReset"];

export const ROLES: readonly Role[] = ["viewer", "operator", "supervisor", "auditor", "admin", "planner"];
export const PASSWORD_MIN = 10;

/** The users screen is the admins' alone (permission users.manage, access/policy.py). */
export function mayManageUsers(role: Role | null | undefined): boolean {
  return role === "admin";
}

/** "D-01, D-02" -> ["D-01", "D-02"]; blank -> [] (all districts). */
export function parseDistricts(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((d) => d.trim()).filter((d) => d !== ""))];
}

export function districtsText(districts: readonly string[]): string {
  return districts.length ? districts.join(", ") : t("users.allDistricts");
}

const u = (name: string) => `/api/users/${encodeURIComponent(name)}`;
export const usersApi = {
  list: () => request<UserInfo[]>("GET", "/api/users"),
  create: (username: string, password: string, role: Role, districts: string[]) =>
    request<UserInfo>("POST", "/api/users", { username, password, role, districts }),
  disable: (name: string) => request<UserInfo>("POST", `${u(name)}/disable`),
  enable: (name: string) => request<UserInfo>("POST", `${u(name)}/enable`),
  remove: (name: string) => request<Ended>("DELETE", u(name)),
  setRole: (name: string, role: Role) => request<UserInfo>("PUT", `${u(name)}/role`, { role }),
  setDistricts: (name: string, districts: string[]) =>
    request<UserInfo>("PUT", `${u(name)}/districts`, districts.length ? { districts } : { all: true }),
  resetPassword: (name: string, password: string) => request<UserInfo>("POST", `${u(name)}/password`, { password }),
  revoke: (name: string) => request<Ended>("POST", `${u(name)}/revoke`),
  resetTwoFactor: (name: string) => request<TwoFactorReset>("POST", `${u(name)}/2fa/reset`),
  tokens: (name: string) => request<TokenInfo[]>("GET", `${u(name)}/tokens`),
  revokeTokens: (name: string, label?: string) =>
    request<Ended>("DELETE", `${u(name)}/tokens${label ? `?name=${encodeURIComponent(label)}` : ""}`),
};

function roleSelect(value: Role, testid: string): HTMLSelectElement {
  const sel = h("select", { "data-testid": testid });
  for (const r of ROLES) sel.append(h("option", { value: r, selected: r === value }, t(`common.role.${r}`)));
  return sel;
}

export function mountUsers(root: HTMLElement): () => void {
  let alive = true;
  const status = h("div", { class: "status-line", "data-testid": "users-status", role: "status" });
  const error = h("div", { class: "error", "data-testid": "users-error", role: "alert" });
  const list = h("tbody", {});
  const name = h("input", { type: "text", required: true, maxlength: 64, placeholder: t("users.username"), "data-testid": "new-user-name" });
  const pw = h("input", { type: "password", required: true, minlength: PASSWORD_MIN, autocomplete: "new-password", placeholder: t("users.passwordHint", { min: PASSWORD_MIN }), "data-testid": "new-user-password" });
  const role = roleSelect("viewer", "new-user-role");
  const districts = h("input", { type: "text", placeholder: t("users.districtsHint"), "data-testid": "new-user-districts" });
  const form = h("form", { class: "users-form", "data-testid": "new-user-form" }, name, pw, role, districts, h("button", { type: "submit", "data-testid": "new-user-submit" }, t("users.create")));

  const say = (text: string) => {
    status.textContent = text;
    error.textContent = "";
  };
  const fail = (e: unknown) => {
    error.textContent = e instanceof ApiError ? e.detail : (e as Error).message;
  };
  const act = (p: Promise<unknown>, done: string) =>
    p
      .then(() => {
        say(done);
        load();
      })
      .catch(fail);

  const tokensRow = (user: UserInfo, cell: HTMLElement) => {
    usersApi
      .tokens(user.username)
      .then((tokens) => {
        clear(cell);
        if (tokens.length === 0) cell.append(t("users.noTokens"));
        for (const tok of tokens)
          cell.append(
            h(
              "div",
              { "data-testid": "token", "data-name": tok.name },
              h("b", {}, tok.name || t("users.unnamed")),
              ` ${t("users.issued")} `,
              timeEl(tok.created_ms),
              `${t("users.expires")} `,
              timeEl(tok.expires_ms),
              " ",
              h("button", { "data-testid": "token-revoke", onclick: () => act(usersApi.revokeTokens(user.username, tok.name), t("users.done.tokensRevoked", { name: tok.name, user: user.username })) }, t("users.revoke")),
            ),
          );
      })
      .catch(fail);
  };

  const row = (user: UserInfo): HTMLElement => {
    const self = me()?.username === user.username;
    const roleSel = roleSelect(user.role, "user-role");
    const distIn = h("input", { type: "text", value: user.districts.join(", "), placeholder: t("users.allDistricts"), size: 14, "data-testid": "user-districts" });
    const tokensCell = h("div", { class: "tokens" });
    const button = (label: string, testid: string, onclick: () => void, disabled = false) =>
      h("button", { "data-testid": testid, onclick, disabled: disabled || undefined, title: disabled ? t("users.askAnother") : undefined }, label);
    return h(
      "tr",
      { "data-testid": "user-row", "data-user": user.username, "data-disabled": String(user.disabled) },
      h("td", {}, h("b", {}, user.username), self ? ` ${t("users.you")}` : "", user.disabled ? h("span", { class: "status status-failed" }, ` ${t("users.disabled")}`) : ""),
      h("td", {}, roleSel, " ", button(t("users.set"), "user-set-role", () => act(usersApi.setRole(user.username, roleSel.value as Role), t("users.done.role", { user: user.username, role: t(`common.role.${roleSel.value}`) })))),
      h("td", {}, distIn, " ", button(t("users.set"), "user-set-districts", () => act(usersApi.setDistricts(user.username, parseDistricts(distIn.value)), t("users.done.districts", { user: user.username, districts: districtsText(parseDistricts(distIn.value)) })))),
      h("td", { "data-testid": "user-credentials" }, t("users.credentials", { sessions: user.sessions, tokens: user.tokens })),
      h(
        "td",
        { class: "buttons" },
        user.disabled
          ? button(t("users.enable"), "user-enable", () => act(usersApi.enable(user.username), t("users.done.enabled", { user: user.username })))
          : button(t("users.disable"), "user-disable", () => act(usersApi.disable(user.username), t("users.done.disabled", { user: user.username })), self),
        button(t("users.endSessions"), "user-revoke", () => act(usersApi.revoke(user.username), t("users.done.revoked", { user: user.username }))),
        button(t("users.password"), "user-password", () => {
          const next = window.prompt(t("users.newPassword", { user: user.username, min: PASSWORD_MIN })) ?? "";
          if (next.length < PASSWORD_MIN) {
            if (next) error.textContent = t("users.tooShort", { min: PASSWORD_MIN });
            return;
          }
          act(usersApi.resetPassword(user.username, next), t("users.done.password", { user: user.username }));
        }),
        button(t("users.tokens"), "user-tokens", () => tokensRow(user, tokensCell)),
        // A lost phone: the user enrols a new authenticator at their next login (docs/design/sign-in.md).
        button(t("users.reset2fa"), "user-2fa-reset", () => {
          if (!window.confirm(t("users.confirm2fa", { user: user.username }))) return;
          usersApi
            .resetTwoFactor(user.username)
            .then((r) => say(r.reset ? t("users.done.2fa", { user: user.username }) : t("users.done.no2fa", { user: user.username })))
            .catch(fail);
        }),
        button(t("users.delete"), "user-delete", () => {
          if (!window.confirm(t("users.confirmDelete", { user: user.username }))) return;
          act(usersApi.remove(user.username), t("users.done.deleted", { user: user.username }));
        }, self),
        tokensCell,
      ),
    );
  };

  const load = () => {
    usersApi
      .list()
      .then((users) => {
        if (!alive) return;
        clear(list);
        for (const user of users) list.append(row(user));
        list.dataset.loaded = String(users.length);
      })
      .catch(fail);
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const who = name.value.trim();
    act(usersApi.create(who, pw.value, role.value as Role, parseDistricts(districts.value)), t("users.done.created", { user: who })).then(() => {
      if (!error.textContent) form.reset();
    });
  });

  root.append(
    h(
      "div",
      { class: "screen users-screen" },
      h("h2", {}, t("users.title")),
      form,
      status,
      error,
      h(
        "table",
        { class: "exports", "data-testid": "user-list" },
        h("thead", {}, h("tr", {}, h("th", {}, t("users.col.user")), h("th", {}, t("users.col.role")), h("th", {}, t("users.col.districts")), h("th", {}, t("users.col.signedIn")), h("th", {}, ""))),
        list,
      ),
    ),
  );
  load();
  return () => {
    alive = false;
  };
}
