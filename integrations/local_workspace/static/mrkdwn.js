// Slack mrkdwn -> DOM nodes. Text only ever reaches the page through text nodes (textContent); links get an
// href only for http(s) and mailto URLs. Nothing here parses HTML.

const EMOJI = {
  red_circle: "\u{1F534}", large_orange_circle: "\u{1F7E0}", large_yellow_circle: "\u{1F7E1}",
  large_green_circle: "\u{1F7E2}", large_blue_circle: "\u{1F535}", white_circle: "\u26AA", black_circle: "\u26AB",
  white_check_mark: "\u2705", heavy_check_mark: "\u2714\uFE0F", x: "\u274C", warning: "\u26A0\uFE0F",
  lock: "\u{1F512}", unlock: "\u{1F513}", rotating_light: "\u{1F6A8}", pushpin: "\u{1F4CC}", fire: "\u{1F525}",
  hourglass: "\u231B", hourglass_flowing_sand: "\u23F3", mag: "\u{1F50D}", bar_chart: "\u{1F4CA}",
  chart_with_upwards_trend: "\u{1F4C8}", bell: "\u{1F514}", no_bell: "\u{1F515}", memo: "\u{1F4DD}",
  clipboard: "\u{1F4CB}", wrench: "\u{1F527}", hammer_and_wrench: "\u{1F6E0}\uFE0F", rocket: "\u{1F680}",
  ice_cube: "\u{1F9CA}", snowflake: "\u2744\uFE0F", thumbsup: "\u{1F44D}", "+1": "\u{1F44D}",
  thumbsdown: "\u{1F44E}", "-1": "\u{1F44E}", eyes: "\u{1F440}", raising_hand: "\u{1F64B}",
  information_source: "\u2139\uFE0F", question: "\u2753", exclamation: "\u2757", sos: "\u{1F198}",
  busts_in_silhouette: "\u{1F465}", bust_in_silhouette: "\u{1F464}", link: "\u{1F517}", page_facing_up: "\u{1F4C4}",
  calendar: "\u{1F4C6}", clock1: "\u{1F550}", stopwatch: "\u23F1\uFE0F", tada: "\u{1F389}", mega: "\u{1F4E3}",
  loudspeaker: "\u{1F4E2}", arrow_up: "\u2B06\uFE0F", arrow_down: "\u2B07\uFE0F", arrow_right: "\u27A1\uFE0F",
  construction: "\u{1F6A7}", robot_face: "\u{1F916}", satellite: "\u{1F4E1}", zap: "\u26A1", boom: "\u{1F4A5}",
  no_entry: "\u26D4", stop_sign: "\u{1F6D1}", green_heart: "\u{1F49A}", broken_heart: "\u{1F494}",
};

const ENTITIES = { amp: "&", lt: "<", gt: ">" };
// Private-use characters stand in for <...> tokens while the formatting markers are matched.
const SLOT = 0xe000;
const SLOTS = /[\ue000-\uf8ff]/g;
const SAFE_SCHEMES = ["http:", "https:", "mailto:"];

export function decodeEntities(text) {
  return String(text).replace(/&(amp|lt|gt);/g, (_, name) => ENTITIES[name]);
}

export function emojiText(text) {
  return String(text).replace(/:([a-z0-9_+'-]+)(::skin-tone-[2-6])?:/g, (whole, name) => EMOJI[name] || whole);
}

export function safeHref(url) {
  try {
    const parsed = new URL(url);
    return SAFE_SCHEMES.includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const pad = (n) => String(n).padStart(2, "0");

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

function pretty(date, style) {
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  const tomorrow = new Date(today.getTime() + 86400000);
  if (sameDay(date, today)) return "Today";
  if (sameDay(date, yesterday)) return "Yesterday";
  if (sameDay(date, tomorrow)) return "Tomorrow";
  return date.toLocaleDateString(undefined, { dateStyle: style });
}

// <!date^1700000000^{date_short_pretty} at {time}|fallback>: in the reader's own time zone, as Slack shows it.
export function formatDate(seconds, format) {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return null;
  const parts = {
    date_num: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`,
    date: date.toLocaleDateString(undefined, { dateStyle: "long" }),
    date_short: date.toLocaleDateString(undefined, { dateStyle: "medium" }),
    date_long: date.toLocaleDateString(undefined, { dateStyle: "full" }),
    date_pretty: pretty(date, "long"),
    date_short_pretty: pretty(date, "medium"),
    date_long_pretty: pretty(date, "full"),
    time: `${pad(date.getHours())}:${pad(date.getMinutes())}`,
    time_secs: `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`,
  };
  return format.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in parts ? parts[name] : whole));
}

// One <...> token: a mention, a channel, a special mention, a date or a link.
function tokenNode(inner, ctx) {
  const bar = inner.indexOf("|");
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? "" : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const user = ctx.users && ctx.users[id];
    const node = el("span", "mention", "@" + (label || (user ? user.name : id)));
    node.dataset.userId = id;
    return node;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = label || (ctx.channels && ctx.channels[id]) || id;
    const node = el("a", "channel-link", "#" + name);
    node.href = "#" + encodeURIComponent(id);
    node.dataset.channelId = id;
    return node;
  }
  if (target.startsWith("!")) {
    const [name, ...rest] = target.slice(1).split("^");
    if (["here", "channel", "everyone"].includes(name)) return el("span", "mention special", "@" + name);
    if (name === "date") {
      const shown = formatDate(Number(rest[0]), rest[1] || "{date_num} {time}");
      const node = el("time", "date", shown || label || "a date");
      if (label) node.title = label;
      return node;
    }
    if (name === "subteam") return el("span", "mention", label || "@team");
    return el("span", "mention", label || "@" + name);
  }
  const url = decodeEntities(target);
  const href = safeHref(url);
  if (!href) return document.createTextNode(label || url);
  const link = el("a", "link", label || url);
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

// Leaf text: entities decoded, emoji codes shown, token slots swapped for their nodes.
function appendLeaf(parent, text, tokens, ctx) {
  let start = 0;
  for (const match of text.matchAll(SLOTS)) {
    if (match.index > start) parent.append(emojiText(decodeEntities(text.slice(start, match.index))));
    const token = tokens[match[0].charCodeAt(0) - SLOT];
    parent.append(token === undefined ? "\uFFFD" : tokenNode(token, ctx));
    start = match.index + 1;
  }
  if (start < text.length) parent.append(emojiText(decodeEntities(text.slice(start))));
}

const MARKS = [
  ["*", "strong"],
  ["_", "em"],
  ["~", "s"],
];

// *bold*, _italic_ and ~strike~ at word boundaries, nested; the rest goes to appendLeaf.
function appendFormatted(parent, text, tokens, ctx, depth = 0) {
  if (depth > 6) return appendLeaf(parent, text, tokens, ctx);
  let best = null;
  for (const [mark, tag] of MARKS) {
    const m = "\\" + mark;
    const re = new RegExp(`(^|[\\s(\\[{"'\\u201c>])${m}([^\\s${m}](?:[^${m}\\n]*?[^\\s${m}])?)${m}(?=$|[\\s.,!?:;)\\]}"'\\u201d<-])`);
    const found = re.exec(text);
    if (found && (best === null || found.index < best.found.index)) best = { found, tag };
  }
  if (best === null) return appendLeaf(parent, text, tokens, ctx);
  const { found, tag } = best;
  const before = text.slice(0, found.index) + found[1];
  appendLeaf(parent, before, tokens, ctx);
  const node = el(tag);
  appendFormatted(node, found[2], tokens, ctx, depth + 1);
  parent.append(node);
  appendFormatted(parent, text.slice(found.index + found[0].length), tokens, ctx, depth);
}

// Inline text: `code` spans kept verbatim, <...> tokens set aside, then the formatting marks.
function appendInline(parent, text, ctx) {
  const pieces = text.split(/(`[^`\n]+`)/);
  for (const piece of pieces) {
    if (piece.length > 2 && piece.startsWith("`") && piece.endsWith("`")) {
      parent.append(el("code", null, decodeEntities(piece.slice(1, -1))));
      continue;
    }
    const tokens = [];
    const slotted = piece.replace(/<([^<>\n]*)>/g, (_, inner) => {
      tokens.push(inner);
      return String.fromCharCode(SLOT + tokens.length - 1);
    });
    appendFormatted(parent, slotted, tokens, ctx);
  }
}

/** Render mrkdwn `text` into a new element (`tag`, default div) and return it. */
export function mrkdwn(text, ctx = {}, tag = "div") {
  const root = el(tag, "mrkdwn");
  // Characters of the private-use area are ours (token slots): any in the data are shown as U+FFFD.
  const source = String(text ?? "").replace(SLOTS, "\uFFFD");
  const chunks = source.split(/```/);
  chunks.forEach((chunk, index) => {
    if (index % 2 === 1 && index < chunks.length - 1) {
      root.append(el("pre", "code-block", decodeEntities(chunk.replace(/^\n/, ""))));
      return;
    }
    const raw = index % 2 === 1 ? "```" + chunk : chunk;
    let quote = null;
    const lines = raw.split("\n");
    lines.forEach((line, lineIndex) => {
      const quoted = /^> ?/.exec(line);
      if (quoted) {
        if (!quote) {
          quote = el("blockquote");
          root.append(quote);
        } else {
          quote.append(el("br"));
        }
        appendInline(quote, line.slice(quoted[0].length), ctx);
        return;
      }
      quote = null;
      appendInline(root, line, ctx);
      if (lineIndex < lines.length - 1) root.append(el("br"));
    });
  });
  return root;
}

/** A Block Kit text object: mrkdwn rendered, plain_text shown as written (emoji codes only). */
export function textObject(object, ctx = {}, tag = "span") {
  if (!object || typeof object !== "object") return el(tag, "plain", "");
  if (object.type === "mrkdwn") return mrkdwn(object.text, ctx, tag);
  const text = String(object.text ?? "");
  return el(tag, "plain", object.emoji === false ? text : emojiText(text));
}
