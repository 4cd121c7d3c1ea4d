// The local-mode page: fetches the workspace as one user sees it, re-renders on each server-sent `change`
// event, and acts through the emulator's control API, which sends the bot the signed requests Slack would.

import { blockNode, messageBody } from "./blocks.js";
import { emojiText, mrkdwn, safeHref, textObject } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);
const view = {
  user: localStorage.getItem("warroom.user") || null,
  channel: decodeURIComponent(location.hash.slice(1)) || null,
  data: null,
  rendered: {},
  seen: JSON.parse(localStorage.getItem("warroom.seen") || "{}"),
  follow: null, // channel ids known when "Send test alert" was pressed: open the war room that appears
  modalKey: null,
};
let loading = null;
let again = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function toast(text, kind = "info") {
  const node = el("div", `toast ${kind}`, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), kind === "error" ? 12000 : 6000);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `HTTP ${response.status}` };
  }
  if (!response.ok || data.ok === false) {
    const reason = data.detail || data.error || `HTTP ${response.status}`;
    throw new Error(reason);
  }
  return data;
}

// Slack shows the bot's failure to answer in time as an error; so do we.
function checkDelivery(result, what) {
  if (result.status >= 400) toast(`${what}: the bot answered HTTP ${result.status}`, "error");
}

function context() {
  const data = view.data;
  const users = Object.fromEntries(data.users.map((u) => [u.id, u]));
  return {
    users,
    channels: data.channel_names,
    act: (element, block, node) => act(element, block, node),
    choose: (element, block, value, node) => choose(element, block, value, node),
  };
}

// -- acting ---------------------------------------------------------------------------------------------

// Who acts: the user picked in "Acting as" from the moment it is picked, even before the page has re-rendered.
function actingAs() {
  return view.user || view.data.user;
}

function confirmFirst(confirm) {
  if (!confirm) return Promise.resolve(true);
  const dialog = $("confirm");
  $("confirm-title").textContent = confirm.title ? confirm.title.text : "Are you sure?";
  $("confirm-text").replaceChildren(textObject(confirm.text, context(), "div"));
  $("confirm-ok").textContent = confirm.confirm ? confirm.confirm.text : "Yes";
  $("confirm-deny").textContent = confirm.deny ? confirm.deny.text : "Cancel";
  $("confirm-ok").classList.toggle("danger", confirm.style === "danger");
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (answer) => {
      $("confirm-ok").onclick = $("confirm-deny").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-deny").onclick = () => done(false);
    dialog.oncancel = () => done(false);
  });
}

function messageOf(node) {
  const holder = node.closest("[data-ts]");
  return holder ? holder.dataset.ts : null;
}

async function click(body, node) {
  node.disabled = true;
  node.classList.add("pending");
  try {
    const result = await post("_emulator/send/click", {
      user_id: actingAs(),
      channel_id: view.data.channel,
      ...body,
    });
    checkDelivery(result, "click");
  } catch (error) {
    toast(`The click was not delivered: ${error.message}`, "error");
  } finally {
    node.disabled = false;
    node.classList.remove("pending");
  }
}

async function act(element, block, node) {
  if (!(await confirmFirst(element.confirm))) return;
  const href = element.url ? safeHref(element.url) : null;
  if (href) window.open(href, "_blank", "noopener,noreferrer");
  const body = { message_ts: messageOf(node), action_id: element.action_id, block_id: block.block_id };
  if (element.value !== undefined) body.value = element.value;
  await click(body, node);
}

async function choose(element, block, value, node) {
  const option = [...(element.options || []), ...(element.option_groups || []).flatMap((g) => g.options || [])]
    .find((o) => o.value === value);
  if (!option) return;
  if (!(await confirmFirst(element.confirm))) {
    node.value = "";
    return;
  }
  await click(
    { message_ts: messageOf(node), action_id: element.action_id, block_id: block.block_id, selected_option: option },
    node,
  );
}

async function sendComposer(event) {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value.trim();
  if (!text || !view.data || !view.data.channel) return;
  input.disabled = true;
  try {
    if (text.startsWith("/")) {
      const space = text.indexOf(" ");
      const command = space === -1 ? text : text.slice(0, space);
      const rest = space === -1 ? "" : text.slice(space + 1).trim();
      const result = await post("_emulator/send/command", {
        user_id: actingAs(),
        channel_id: view.data.channel,
        command,
        text: rest,
      });
      checkDelivery(result, command);
    } else {
      const result = await post("_emulator/send/message", {
        user_id: actingAs(),
        channel_id: view.data.channel,
        text,
      });
      checkDelivery(result, "message");
    }
    input.value = "";
  } catch (error) {
    toast(`Not sent: ${error.message}`, "error");
  } finally {
    input.disabled = false;
    input.focus();
  }
}

async function sendTestAlert() {
  const button = $("send-alert");
  button.disabled = true;
  view.follow = new Set(view.data ? view.data.channels.map((c) => c.id) : []);
  try {
    const result = await post("_emulator/test-alert", {});
    const refs = (result.body && result.body.incidents) || [];
    toast(refs.length ? `Alert accepted: ${refs.join(", ")}` : "Alert accepted", "ok");
    // The alert may join an incident whose room is already open: stop waiting for a new room after a while.
    const following = view.follow;
    setTimeout(() => {
      if (view.follow === following) view.follow = null;
    }, 15000);
  } catch (error) {
    view.follow = null;
    toast(`The test alert was refused: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

// -- modals ---------------------------------------------------------------------------------------------

function inputControl(block) {
  const element = block.element || {};
  const id = `input-${block.block_id}`;
  let control;
  if (element.type === "static_select") {
    control = el("select");
    const initial = element.initial_option ? element.initial_option.value : null;
    if (initial === null) control.append(Object.assign(el("option", null, "Select an item"), { value: "" }));
    for (const option of element.options || []) {
      const item = el("option", null, emojiText(option.text ? option.text.text : ""));
      item.value = option.value ?? "";
      item.selected = option.value === initial;
      control.append(item);
    }
  } else if (element.type === "users_select") {
    control = el("select");
    control.append(Object.assign(el("option", null, "Select a person"), { value: "" }));
    for (const user of view.data.users.filter((u) => !u.is_bot)) {
      control.append(Object.assign(el("option", null, user.real_name), { value: user.id }));
    }
  } else {
    control = el(element.multiline ? "textarea" : "input");
    if (!element.multiline) control.type = "text";
    if (element.initial_value) control.value = element.initial_value;
    if (element.max_length) control.maxLength = element.max_length;
    if (element.placeholder) control.placeholder = element.placeholder.text;
  }
  control.id = id;
  control.name = block.block_id;
  control.dataset.kind = element.type || "plain_text_input";
  return control;
}

function renderModal(modal) {
  const dialog = $("modal");
  if (!modal) {
    view.modalKey = null;
    if (dialog.open) dialog.close();
    return;
  }
  const key = `${modal.id}:${modal.hash}`;
  if (view.modalKey !== key) {
    view.modalKey = key;
    dialog.dataset.viewId = modal.id;
    dialog.dataset.user = view.data.user; // a modal belongs to the user it was opened for
    $("modal-title").textContent = modal.title ? modal.title.text : "";
    $("modal-submit").textContent = modal.submit ? modal.submit.text : "Submit";
    $("modal-submit").hidden = !modal.submit;
    $("modal-close").textContent = modal.close ? modal.close.text : "Cancel";
    const ctx = context();
    const blocks = (modal.blocks || []).map((block) => {
      if (block.type !== "input") return blockNode(block, ctx);
      const field = el("div", "input-block");
      field.dataset.blockId = block.block_id;
      const label = el("label", null, block.label ? block.label.text : "");
      label.htmlFor = `input-${block.block_id}`;
      if (block.optional) label.append(el("span", "muted", " (optional)"));
      field.append(label, inputControl(block));
      if (block.hint) field.append(el("div", "muted", block.hint.text));
      field.append(el("div", "field-error"));
      return field;
    });
    $("modal-blocks").replaceChildren(...blocks);
    if (!dialog.open) dialog.showModal();
  }
  const errors = modal.errors || {};
  for (const field of $("modal-blocks").querySelectorAll(".input-block")) {
    field.querySelector(".field-error").textContent = errors[field.dataset.blockId] || "";
  }
  $("modal-error").textContent = errors.view || "";
}

async function submitModal(event) {
  event.preventDefault();
  const dialog = $("modal");
  const values = {};
  for (const control of $("modal-blocks").querySelectorAll("input, textarea, select")) {
    if (control.value !== "" || control.dataset.kind === "plain_text_input") values[control.name] = control.value;
  }
  try {
    const result = await post("_emulator/send/submit", { user_id: dialog.dataset.user, view_id: dialog.dataset.viewId, values });
    checkDelivery(result, "submit");
  } catch (error) {
    toast(`Not submitted: ${error.message}`, "error");
  }
}

async function closeModal(event) {
  if (event) event.preventDefault();
  const id = $("modal").dataset.viewId;
  view.modalKey = null;
  $("modal").close();
  try {
    await post(`_emulator/views/${encodeURIComponent(id)}/close`, { user_id: $("modal").dataset.user });
  } catch (error) {
    toast(`Could not close: ${error.message}`, "error");
  }
}

// -- rendering ------------------------------------------------------------------------------------------

function time(ts) {
  const date = new Date(Number(ts) * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function author(message, ctx) {
  const user = ctx.users[message.user];
  return user ? user.real_name || user.name : message.user || "unknown";
}

function messageNode(message, ctx, { ephemeral = false, reply = false } = {}) {
  const node = el("article", "message");
  node.dataset.ts = message.ts;
  if (ephemeral) node.classList.add("ephemeral");
  if (reply) node.classList.add("reply");
  // An ephemeral message comes from the app, whoever it is for.
  const user = ephemeral ? Object.values(ctx.users).find((u) => u.is_bot) : ctx.users[message.user];
  const name = ephemeral ? (user ? user.real_name : "app") : author(message, ctx);
  const avatar = el("div", "avatar", (name[0] || "?").toUpperCase());
  if (user && user.is_bot) avatar.classList.add("bot");
  const head = el("div", "message-head");
  head.append(el("span", "author", name));
  if (ephemeral || message.bot_id) head.append(el("span", "badge", "APP"));
  head.append(el("time", "when", time(message.ts)));
  if (message.edited) head.append(el("span", "muted edited", "(edited)"));
  if (message.pinned) head.append(el("span", "pinned", "\u{1F4CC} Pinned"));
  if (ephemeral) head.append(el("span", "only-you", "Only visible to you"));
  const main = el("div", "message-main");
  main.append(head, messageBody(message, ctx));
  if (Array.isArray(message.reactions) && message.reactions.length) {
    const reactions = el("div", "reactions");
    for (const r of message.reactions) reactions.append(el("span", "reaction", `${emojiText(`:${r.name}:`)} ${r.count}`));
    main.append(reactions);
  }
  if (Array.isArray(message.replies) && message.replies.length) {
    const thread = el("div", "thread");
    thread.append(el("div", "thread-count", `${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}`));
    for (const item of message.replies) thread.append(messageNode(item, ctx, { reply: true }));
    main.append(thread);
  }
  node.append(avatar, main);
  return node;
}

function renderMessages(data, ctx) {
  const box = $("messages");
  const key = JSON.stringify([data.user, data.channel, data.older, data.messages, data.ephemeral, data.users, data.channel_names]);
  if (view.rendered.messages === key) return;
  view.rendered.messages = key;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const items = [
    ...data.messages.map((m) => ({ ts: m.ts, node: () => messageNode(m, ctx) })),
    ...data.ephemeral.map((e) => ({ ts: e.ts, node: () => messageNode(e, ctx, { ephemeral: true }) })),
  ].sort((a, b) => Number(a.ts) - Number(b.ts));
  const nodes = items.map((item) => item.node());
  if (!nodes.length) nodes.push(el("p", "muted empty", "No messages yet."));
  if (data.older) nodes.unshift(el("p", "muted older", `${data.older} older messages are not shown.`));
  box.replaceChildren(...nodes);
  if (atBottom || view.rendered.channel !== data.channel) box.scrollTop = box.scrollHeight;
  view.rendered.channel = data.channel;
}

function channelItem(channel) {
  const item = el("li");
  const link = el("a", "channel-item", (channel.is_im ? "@" : channel.is_private ? "\u{1F512} " : "# ") + channel.name);
  link.href = "#" + encodeURIComponent(channel.id);
  link.dataset.channelId = channel.id;
  link.dataset.channelName = channel.name;
  if (channel.id === view.data.channel) link.classList.add("selected");
  if (channel.latest && channel.id !== view.data.channel && (view.seen[channel.id] || "0") < channel.latest) {
    link.classList.add("unread");
  }
  if (!channel.is_member) link.title = "you are not a member (you can still read it, as in a public channel)";
  item.append(link);
  return item;
}

function renderSidebar(data) {
  const key = JSON.stringify([data.channel, data.channels, view.seen]);
  if (view.rendered.sidebar === key) return;
  view.rendered.sidebar = key;
  $("channels").replaceChildren(...data.channels.filter((c) => !c.is_im).map(channelItem));
  $("dms").replaceChildren(...data.channels.filter((c) => c.is_im).map(channelItem));
}

function renderUsers(data) {
  const select = $("user");
  const humans = data.users.filter((u) => !u.is_bot);
  const key = JSON.stringify(humans);
  if (view.rendered.users !== key) {
    view.rendered.users = key;
    select.replaceChildren(...humans.map((u) => Object.assign(el("option", null, `${u.real_name} (@${u.name})`), { value: u.id })));
  }
  select.value = data.user;
}

function renderProblems(data) {
  const key = JSON.stringify(data.problems);
  if (view.rendered.problems === key) return;
  view.rendered.problems = key;
  $("problem-count").textContent = String(data.problems.length);
  $("problem-count").classList.toggle("has", data.problems.length > 0);
  $("problems").replaceChildren(
    ...data.problems.map((p) => {
      const item = el("li", "problem");
      const where = p.channel ? ` in #${data.channel_names[p.channel] || p.channel}` : "";
      const retry = p.retry_after ? ` · Retry-After: ${p.retry_after}s` : "";
      item.append(el("div", "problem-head", `${time(p.time)} ${p.method}${where} → ${p.status} ${p.error || ""}${retry}`));
      for (const line of p.messages || []) item.append(el("div", "problem-message", line));
      const details = el("details");
      details.append(el("summary", null, "request"), el("pre", "code-block", p.args));
      item.append(details);
      return item;
    }),
  );
}

function chooseChannel(data) {
  const ids = data.channels.map((c) => c.id);
  if (view.follow) {
    const fresh = data.channels.filter((c) => !view.follow.has(c.id) && c.name.startsWith("inc-"));
    if (fresh.length) {
      view.follow = null;
      return fresh[fresh.length - 1].id;
    }
  }
  if (view.channel && ids.includes(view.channel)) return view.channel;
  const rooms = data.channels.filter((c) => c.name.startsWith("inc-"));
  if (rooms.length) return rooms[rooms.length - 1].id;
  const general = data.channels.find((c) => c.name === "general");
  return general ? general.id : ids[0] || null;
}

function render(data) {
  view.data = data;
  const ctx = context();
  renderUsers(data);
  renderSidebar(data);
  const channel = data.channels.find((c) => c.id === data.channel);
  $("channel-name").textContent = channel ? (channel.is_im ? "@" : "#") + channel.name : "";
  $("channel-topic").replaceChildren(channel && channel.topic ? mrkdwn(channel.topic, ctx, "span") : "");
  if (channel && !channel.is_member) $("channel-topic").append(el("span", "not-member", " · you are not a member"));
  $("composer-text").placeholder = channel ? `Message ${(channel.is_im ? "@" : "#") + channel.name}, or /incident help` : "";
  $("send-alert").hidden = !data.sample_alert;
  renderMessages(data, ctx);
  renderProblems(data);
  renderModal(data.view);
  if (channel && channel.latest) {
    view.seen[channel.id] = channel.latest;
    localStorage.setItem("warroom.seen", JSON.stringify(view.seen));
  }
  document.body.dataset.revision = String(data.revision);
  document.body.dataset.channel = data.channel || "";
  document.body.dataset.user = data.user;
}

async function load() {
  const asked = { user: view.user, channel: view.channel };
  const params = new URLSearchParams();
  if (asked.user) params.set("user", asked.user);
  if (asked.channel) params.set("channel", asked.channel);
  const response = await fetch(`_emulator/page?${params}`, { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const data = await response.json();
  // Another user or channel was picked while this answer was on its way: it is stale, ask again.
  if (view.user !== asked.user || view.channel !== asked.channel) return load();
  const wanted = chooseChannel(data);
  if (wanted !== data.channel) {
    view.channel = wanted;
    return load();
  }
  if (view.channel !== data.channel || location.hash.slice(1) !== encodeURIComponent(data.channel || "")) {
    view.channel = data.channel;
    history.replaceState(null, "", "#" + encodeURIComponent(data.channel || ""));
  }
  view.user = data.user;
  return data;
}

async function refresh() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    try {
      do {
        again = false;
        render(await load());
      } while (again);
    } catch (error) {
      toast(`Could not load the workspace: ${error.message}`, "error");
    } finally {
      loading = null;
    }
  })();
  return loading;
}

function connect() {
  const live = $("live");
  const events = new EventSource("_emulator/stream");
  events.addEventListener("change", () => refresh());
  events.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live on";
    refresh();
  });
  events.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "live offline";
  });
}

function openChannel(id) {
  if (!id || id === view.channel) return;
  view.channel = id;
  view.follow = null;
  refresh();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-channel-id]");
  if (!link) return;
  event.preventDefault();
  openChannel(link.dataset.channelId);
});
window.addEventListener("hashchange", () => openChannel(decodeURIComponent(location.hash.slice(1))));
$("user").addEventListener("change", (event) => {
  view.user = event.target.value;
  localStorage.setItem("warroom.user", view.user);
  view.modalKey = null;
  refresh();
});
$("composer").addEventListener("submit", sendComposer);
$("send-alert").addEventListener("click", sendTestAlert);
$("modal-form").addEventListener("submit", submitModal);
$("modal-close").addEventListener("click", closeModal);
$("modal").addEventListener("cancel", closeModal);
connect();
