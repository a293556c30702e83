// The dashboard's script: recent events, traces, replay, dead-letter retries and the rule playground,
// all through the admin API (the session cookie signs the requests in). Everything that came from the
// API is put in the page with textContent (through h()), never as HTML: payloads are attacker-controlled.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);

  /** an element with attributes and children (strings become text nodes) */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes ?? {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  const json = (value) => JSON.stringify(value, null, 2);
  const when = (iso) => (typeof iso === "string" ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
  const tag = (text, kind) => h("span", { class: `tag ${kind ?? text}` }, text);

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers:
        body === undefined
          ? { Accept: "application/json" }
          : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.assign(`/admin/login?next=${encodeURIComponent(location.pathname)}`);
      throw new Error("the session has ended: sign in again");
    }
    const text = await response.text();
    let data = null;
    try {
      data = text === "" ? null : JSON.parse(text);
    } catch {
      data = { message: text };
    }
    if (!response.ok) {
      const code = data && data.code ? `${data.code}: ` : `${response.status}: `;
      throw new Error(code + ((data && data.message) || response.statusText));
    }
    return data;
  }

  /** shows an error where the action was asked for */
  const failed = (target) => (error) => {
    target.hidden = false;
    target.replaceChildren(h("span", { class: "error" }, error.message));
  };

  // ---- recent events ----------------------------------------------------------------------------
  const recent = new Map();
  let filters = new URLSearchParams();
  let cursor = null;

  function eventRow(item) {
    const payload = item.payload && typeof item.payload === "object" ? item.payload : {};
    const rules = Array.isArray(item.matches) ? item.matches.map((match) => match.id) : [];
    return h(
      "tr",
      { "data-event": item.id },
      h("td", {}, when(item.receivedAt)),
      h("td", {}, item.type ?? ""),
      h("td", {}, h("code", {}, payload.CallUUID ?? "")),
      h("td", {}, h("code", {}, item.path ?? "")),
      h("td", {}, rules.length === 0 ? h("span", { class: "muted" }, "none") : rules.join(", ")),
      h("td", {}, tag(item.status)),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", onclick: () => void openTrace(item.id) }, "Trace"),
        h("button", { type: "button", class: "secondary", onclick: () => toPlayground(item) }, "Playground"),
      ),
    );
  }

  function remember(item) {
    recent.set(item.id, item);
    const select = $("#playground-form select[name=recorded]");
    if (select.querySelector(`option[value="${CSS.escape(item.id)}"]`)) return;
    const label = `${when(item.receivedAt)} ${item.type ?? "?"} ${item.path ?? ""}`;
    select.append(h("option", { value: item.id }, label));
  }

  let pages = 0;
  let shown = "";

  /** the first page again (more = false), or the next one; `quiet` keeps what is shown on an error */
  async function loadEvents(more, quiet) {
    const rows = $("#event-rows");
    const query = new URLSearchParams(filters);
    query.set("limit", "25");
    if (more && cursor) query.set("cursor", cursor);
    try {
      const page = await api("GET", `/admin/events?${query}`);
      const seen = page.items.map((item) => `${item.id}:${item.status}`).join(",");
      if (!more && quiet && seen === shown) return; // nothing new: leave the rows (and the reader) alone
      if (!more) {
        rows.replaceChildren();
        shown = seen;
        pages = 0;
      }
      pages += 1;
      for (const item of page.items) {
        rows.append(eventRow(item));
        remember(item);
      }
      if (rows.children.length === 0)
        rows.append(h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No events match.")));
      cursor = page.next;
      $("#more-events").hidden = !cursor;
    } catch (error) {
      if (!quiet) rows.replaceChildren(h("tr", {}, h("td", { colspan: 7, class: "error" }, error.message)));
    }
  }

  // new events appear by themselves while the first page is shown and the tab is visible
  setInterval(() => {
    if (pages === 1 && document.visibilityState === "visible") void loadEvents(false, true);
  }, 5000);

  $("#event-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    filters = new URLSearchParams();
    for (const [name, value] of new FormData(event.target)) {
      if (String(value).trim() !== "") filters.set(name, String(value).trim());
    }
    void loadEvents(false);
  });
  $("#more-events").addEventListener("click", () => void loadEvents(true));

  // ---- traces -----------------------------------------------------------------------------------
  let current = null;

  const section = (title, ...content) => h("div", { class: "trace-part" }, h("h3", {}, title), ...content);
  const pre = (value, kind) => h("pre", { class: kind }, typeof value === "string" ? value : json(value));

  function attemptsTable(attempts) {
    if (!Array.isArray(attempts) || attempts.length === 0)
      return h("p", { class: "muted" }, "no attempt yet");
    return h(
      "table",
      { class: "attempts" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["#", "time", "request", "status", "latency", "error"].map((name) => h("th", {}, name)),
        ),
      ),
      h(
        "tbody",
        {},
        attempts.map((attempt, index) =>
          h(
            "tr",
            {},
            h("td", {}, attempt.attempt ?? index + 1),
            h(
              "td",
              {},
              when(typeof attempt.at === "number" ? new Date(attempt.at).toISOString() : attempt.at),
            ),
            h("td", {}, h("code", {}, attempt.request ?? "")),
            h("td", {}, attempt.status ?? attempt.verdict ?? ""),
            h("td", {}, attempt.latencyMs === undefined ? "" : `${attempt.latencyMs} ms`),
            h("td", { class: "error" }, attempt.error ?? ""),
          ),
        ),
      ),
    );
  }

  function actionPart(action) {
    const title = [action.rule, `#${action.index}`, action.type, action.state].filter((x) => x !== undefined);
    return h(
      "div",
      { class: "action" },
      h("h4", {}, title.join(" · "), action.note ? h("span", { class: "muted" }, ` (${action.note})`) : null),
      action.job === null ? h("p", { class: "muted" }, "runs no job") : attemptsTable(action.attempts),
    );
  }

  const traceLink = (id) => h("a", { href: "#trace", onclick: () => void openTrace(id) }, id);

  function renderTrace(trace) {
    const links = [];
    if (trace.replayOf) links.push(h("dt", {}, "replay of"), h("dd", {}, traceLink(trace.replayOf)));
    if (Array.isArray(trace.replays) && trace.replays.length > 0)
      links.push(
        h("dt", {}, "replays"),
        h(
          "dd",
          {},
          trace.replays.map((id) => [traceLink(id), " "]),
        ),
      );
    const matches = Array.isArray(trace.matches) ? trace.matches : [];
    const reply = trace.answer && typeof trace.answer === "object" ? trace.answer : null;
    return [
      h(
        "dl",
        { class: "summary" },
        h("dt", {}, "type"),
        h("dd", {}, trace.type ?? "unknown"),
        h("dt", {}, "outcome"),
        h("dd", {}, tag(trace.status), " ", trace.state ?? ""),
        h("dt", {}, "received"),
        h("dd", {}, when(trace.receivedAt), " on ", h("code", {}, trace.path ?? "")),
        h("dt", {}, "ruleset"),
        h(
          "dd",
          {},
          h("code", {}, trace.ruleset ? (trace.ruleset.hash ?? json(trace.ruleset)).slice(0, 12) : "-"),
        ),
        h("dt", {}, "request id"),
        h("dd", {}, h("code", {}, trace.requestId ?? "")),
        ...links,
      ),
      section("Verification", pre(trace.verification ?? null)),
      section("Payload", pre(trace.payload ?? null, "payload")),
      section(
        "Matched rules",
        matches.length === 0
          ? h("p", { class: "muted" }, "no rule matched")
          : h(
              "ul",
              {},
              matches.map((match) =>
                h(
                  "li",
                  {},
                  h("code", {}, match.id),
                  match.description ? ` ${match.description}` : "",
                  match.file ? h("span", { class: "muted" }, ` ${match.file}:${match.line ?? ""}`) : "",
                ),
              ),
            ),
        Array.isArray(trace.errors) && trace.errors.length > 0
          ? h(
              "ul",
              { class: "error" },
              trace.errors.map((error) => h("li", {}, `${error.id}: ${error.error}`)),
            )
          : null,
      ),
      section(
        "Actions",
        Array.isArray(trace.actions) && trace.actions.length > 0
          ? trace.actions.map(actionPart)
          : h("p", { class: "muted" }, "no action"),
      ),
      reply || trace.route === "answer" ? replyPart(trace, reply) : null,
    ];
  }

  /**
   * An /answer event's reply. The trace keeps its outcome (which rule answered, or why the fallback did),
   * not the XML itself: the XML is rendered again by the dry run, with the event's payload at the event's
   * time, and marked when the loaded ruleset is not the one that answered.
   */
  function replyPart(trace, reply) {
    const xml = h("pre", { class: "xml" }, "Rendering…");
    const note = h("p", { class: "muted" });
    const query = {};
    for (const [name, value] of Object.entries(trace.query ?? {}))
      query[name] = Array.isArray(value) ? String(value[0] ?? "") : String(value);
    const payload = trace.payload && typeof trace.payload === "object" ? trace.payload : {};
    api("POST", "/admin/evaluate", { path: trace.path, event: payload, at: trace.receivedAt, query })
      .then((result) => {
        xml.textContent =
          result.reply && typeof result.reply.xml === "string" ? result.reply.xml : json(result.reply);
        const same = trace.ruleset && result.version && trace.ruleset.hash === result.version.hash;
        note.textContent = same
          ? "Rendered again from the payload by the same ruleset that answered, at the event's time."
          : "Rendered again by the loaded ruleset, which is not the one that answered: it may differ from what was sent.";
      })
      .catch((error) => {
        xml.textContent = "";
        note.className = "error";
        note.textContent = error.message;
      });
    return section("XML reply", reply ? pre(reply) : null, xml, note);
  }

  async function openTrace(id) {
    const part = $("#trace");
    part.hidden = false;
    $("#trace-id").textContent = id;
    $("#replay-result").hidden = true;
    const body = $("#trace-body");
    body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    part.scrollIntoView({ block: "start" });
    try {
      current = await api("GET", `/admin/events/${encodeURIComponent(id)}`);
      body.replaceChildren(...renderTrace(current).filter(Boolean));
    } catch (error) {
      current = null;
      body.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  $("#trace-close").addEventListener("click", () => {
    $("#trace").hidden = true;
    current = null;
  });
  $("#trace-playground").addEventListener("click", () => {
    if (current) toPlayground(current);
  });

  // POST /admin/events/:id/replay {"vobiz"?: boolean} -> 202 {"id", "replayOf"}
  $("#replay").addEventListener("click", () => {
    if (!current) return;
    const result = $("#replay-result");
    const vobiz = $("#replay-vobiz").checked;
    api("POST", `/admin/events/${encodeURIComponent(current.id)}/replay`, vobiz ? { vobiz: true } : {})
      .then((answer) => {
        result.hidden = false;
        result.replaceChildren("Replayed as ", traceLink(answer.id), ".");
        void loadEvents(false);
      })
      .catch(failed(result));
  });

  // ---- dead letters -----------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-retry], button[data-trace], button[data-retry-all]");
    if (!button) return;
    if (button.hasAttribute("data-trace")) {
      void openTrace(button.getAttribute("data-trace"));
      return;
    }
    const cell = button.closest("td") ?? button.parentElement;
    const note = h("span", { class: "result" });
    button.disabled = true;
    const retryAll = button.hasAttribute("data-retry-all");
    const url = retryAll
      ? "/admin/dead-letters/retry"
      : `/admin/dead-letters/${encodeURIComponent(button.getAttribute("data-retry"))}/retry`;
    api("POST", url, {})
      .then((answer) => {
        note.textContent = retryAll ? ` ${answer.retried} sent again` : "sent again";
        if (!retryAll) button.closest("tr").classList.add("done");
      })
      .catch((error) => {
        button.disabled = false;
        note.className = "error";
        note.textContent = ` ${error.message}`;
      });
    cell.append(note);
  });

  // ---- playground -------------------------------------------------------------------------------
  const form = $("#playground-form");

  function toPlayground(item) {
    form.elements.path.value = item.path ?? "/events";
    form.elements.event.value = json(item.payload ?? {});
    if (recent.has(item.id)) form.elements.recorded.value = item.id;
    $("#playground").scrollIntoView({ block: "start" });
  }

  form.elements.recorded.addEventListener("change", () => {
    const item = recent.get(form.elements.recorded.value);
    if (item) toPlayground(item);
  });

  /** one condition and its value, with its sub-conditions */
  function explanation(node) {
    if (!node || typeof node !== "object") return null;
    const value = node.value;
    return h(
      "li",
      {},
      h("code", {}, JSON.stringify(node.logic)),
      " → ",
      h(
        "code",
        { class: value === true ? "yes" : value === false ? "no" : "value" },
        JSON.stringify(value) ?? "undefined",
      ),
      Array.isArray(node.args) && node.args.length > 0 ? h("ul", {}, node.args.map(explanation)) : null,
    );
  }

  function renderEvaluation(result) {
    const matched = result.matched ?? [];
    const verdicts = result.rules ?? [];
    return [
      h(
        "p",
        {},
        "ruleset ",
        h("code", {}, (result.version?.hash ?? "").slice(0, 12)),
        ` · ${result.event?.type ?? "?"} on ${result.event?.path ?? "?"} (${result.event?.route ?? "?"})`,
      ),
      section(
        `Matched rules (${matched.length})`,
        matched.length === 0
          ? h("p", { class: "muted" }, "no rule matches this event")
          : matched.map((rule) =>
              h(
                "div",
                { class: "action" },
                h(
                  "h4",
                  {},
                  h("code", {}, rule.id),
                  rule.description ? ` ${rule.description}` : "",
                  h("span", { class: "muted" }, ` ${rule.file}:${rule.line}`),
                ),
                (rule.actions ?? []).map((action) => pre(action)),
              ),
            ),
      ),
      section(
        "Every rule's conditions",
        verdicts.length === 0
          ? h("p", { class: "muted" }, "no rule was a candidate")
          : h(
              "ul",
              { class: "verdicts" },
              verdicts.map((verdict) =>
                h(
                  "li",
                  {},
                  h("code", {}, verdict.id),
                  " ",
                  verdict.matched ? tag("matches", "ok") : tag(`not: ${verdict.failed ?? "?"}`, "pending"),
                  verdict.error ? h("span", { class: "error" }, ` ${verdict.error}`) : null,
                  verdict.when ? h("ul", { class: "conditions" }, explanation(verdict.when)) : null,
                ),
              ),
            ),
      ),
      result.reply ? section("XML reply", pre(result.reply.xml ?? result.reply, "xml")) : null,
      Array.isArray(result.errors) && result.errors.length > 0
        ? section(
            "Errors",
            h(
              "ul",
              { class: "error" },
              result.errors.map((e) => h("li", {}, `${e.id}: ${e.error}`)),
            ),
          )
        : null,
    ].filter(Boolean);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const out = $("#playground-result");
    let payload;
    try {
      payload = JSON.parse(form.elements.event.value);
    } catch (error) {
      out.replaceChildren(h("p", { class: "error" }, `The event is not JSON: ${error.message}`));
      return;
    }
    const body = { path: form.elements.path.value, event: payload };
    if (form.elements.at.value.trim() !== "") body.at = form.elements.at.value.trim();
    out.replaceChildren(h("p", { class: "muted" }, "Evaluating…"));
    api("POST", "/admin/evaluate", body)
      .then((result) => out.replaceChildren(...renderEvaluation(result)))
      .catch((error) => out.replaceChildren(h("p", { class: "error" }, error.message)));
  });

  void loadEvents(false);
})();
