// Block Kit -> DOM, the way Slack lays out what the bot posted. Every string goes in as text (textObject,
// mrkdwn or textContent); interactive elements call ctx.act(element, block) or ctx.choose(element, block, value).

import { emojiText, mrkdwn, safeHref, textObject } from "./mrkdwn.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function plain(object) {
  return object && typeof object === "object" ? String(object.text ?? "") : "";
}

function image(url, alt, className) {
  const href = safeHref(url);  // https only: the page's policy loads no plain-http image
  if (!href || !href.startsWith("https:")) return el("span", "image-missing", alt ? `[image: ${alt}]` : "[image]");
  const img = el("img", className);
  img.src = href;
  img.alt = alt || "";
  img.loading = "lazy";
  img.referrerPolicy = "no-referrer";
  return img;
}

function options(element) {
  const list = [];
  for (const option of element.options || []) list.push({ option, group: null });
  for (const group of element.option_groups || []) {
    for (const option of group.options || []) list.push({ option, group: plain(group.label) });
  }
  return list;
}

function button(element, block, ctx) {
  const node = el("button", "bk-button");
  node.type = "button";
  node.textContent = emojiText(plain(element.text));
  if (element.style === "primary" || element.style === "danger") node.classList.add(element.style);
  node.dataset.actionId = element.action_id || "";
  if (element.value !== undefined) node.dataset.value = element.value;
  node.addEventListener("click", () => ctx.act(element, block, node));
  return node;
}

function select(element, block, ctx) {
  const node = el("select", "bk-select");
  node.dataset.actionId = element.action_id || "";
  node.setAttribute("aria-label", plain(element.placeholder) || element.action_id || "select");
  const placeholder = el("option", null, plain(element.placeholder) || "Select an item");
  placeholder.value = "";
  placeholder.disabled = true;
  node.append(placeholder);
  const initial = element.initial_option ? element.initial_option.value : null;
  let groupNode = null;
  let groupName = null;
  for (const { option, group } of options(element)) {
    const item = el("option", null, emojiText(plain(option.text)));
    item.value = option.value ?? "";
    if (initial !== null && option.value === initial) item.selected = true;
    if (group !== groupName) {
      groupName = group;
      groupNode = group === null ? null : el("optgroup");
      if (groupNode) {
        groupNode.label = group;
        node.append(groupNode);
      }
    }
    (groupNode || node).append(item);
  }
  if (initial === null) placeholder.selected = true;
  node.addEventListener("change", () => ctx.choose(element, block, node.value, node));
  return node;
}

function overflow(element, block, ctx) {
  const node = select({ ...element, placeholder: { type: "plain_text", text: "\u22EF" } }, block, ctx);
  node.classList.add("bk-overflow");
  return node;
}

/** An interactive element (or an image) of an actions block, a section accessory or a context. */
export function elementNode(element, block, ctx) {
  switch (element && element.type) {
    case "button":
      return button(element, block, ctx);
    case "static_select":
    case "external_select":
      return select(element, block, ctx);
    case "overflow":
      return overflow(element, block, ctx);
    case "image":
      return image(element.image_url, element.alt_text, "bk-accessory-image");
    case "mrkdwn":
    case "plain_text":
      return textObject(element, ctx);
    default: {
      const node = el("span", "bk-unsupported", `[${(element && element.type) || "element"}]`);
      node.title = "shown by Slack; not rendered on this page";
      return node;
    }
  }
}

function richElement(item, ctx) {
  switch (item.type) {
    case "text": {
      let node = document.createTextNode(String(item.text ?? ""));
      const style = item.style || {};
      for (const [flag, tag] of [["code", "code"], ["strike", "s"], ["italic", "em"], ["bold", "strong"]]) {
        if (style[flag]) {
          const wrap = el(tag);
          wrap.append(node);
          node = wrap;
        }
      }
      return node;
    }
    case "link": {
      const href = safeHref(item.url);
      if (!href) return document.createTextNode(String(item.text || item.url || ""));
      const link = el("a", "link", String(item.text || item.url));
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "user": {
      const user = ctx.users && ctx.users[item.user_id];
      return el("span", "mention", "@" + (user ? user.name : item.user_id));
    }
    case "channel":
      return el("span", "channel-link", "#" + ((ctx.channels && ctx.channels[item.channel_id]) || item.channel_id));
    case "emoji":
      return document.createTextNode(emojiText(`:${item.name}:`));
    case "broadcast":
      return el("span", "mention special", "@" + item.range);
    default:
      return document.createTextNode("");
  }
}

function richText(block, ctx) {
  const root = el("div", "bk-rich-text");
  for (const part of block.elements || []) {
    const children = (items) => (items || []).map((item) => richElement(item, ctx));
    if (part.type === "rich_text_section") {
      const node = el("div");
      node.append(...children(part.elements));
      root.append(node);
    } else if (part.type === "rich_text_preformatted") {
      const node = el("pre", "code-block");
      node.append(...children(part.elements));
      root.append(node);
    } else if (part.type === "rich_text_quote") {
      const node = el("blockquote");
      node.append(...children(part.elements));
      root.append(node);
    } else if (part.type === "rich_text_list") {
      const list = el(part.style === "ordered" ? "ol" : "ul");
      for (const section of part.elements || []) {
        const item = el("li");
        item.append(...children(section.elements));
        list.append(item);
      }
      root.append(list);
    }
  }
  return root;
}

/** One block; `ctx` holds users, channels and the act/choose callbacks. */
export function blockNode(block, ctx) {
  const type = block && block.type;
  let node;
  switch (type) {
    case "header":
      node = el("h3", "bk-header", emojiText(plain(block.text)));
      break;
    case "section": {
      node = el("div", "bk-section");
      const body = el("div", "bk-section-body");
      if (block.text) body.append(textObject(block.text, ctx, "div"));
      if (Array.isArray(block.fields) && block.fields.length) {
        const fields = el("div", "bk-fields");
        for (const field of block.fields) fields.append(textObject(field, ctx, "div"));
        body.append(fields);
      }
      node.append(body);
      if (block.accessory) {
        const accessory = el("div", "bk-accessory");
        accessory.append(elementNode(block.accessory, block, ctx));
        node.append(accessory);
      }
      break;
    }
    case "context":
      node = el("div", "bk-context");
      for (const element of block.elements || []) {
        node.append(element.type === "image" ? image(element.image_url, element.alt_text, "bk-context-image")
          : elementNode(element, block, ctx));
      }
      break;
    case "divider":
      node = el("hr", "bk-divider");
      break;
    case "actions":
      node = el("div", "bk-actions");
      for (const element of block.elements || []) node.append(elementNode(element, block, ctx));
      break;
    case "image": {
      node = el("figure", "bk-image");
      if (block.title) node.append(el("figcaption", null, emojiText(plain(block.title))));
      node.append(image(block.image_url, block.alt_text, "bk-image-img"));
      break;
    }
    case "rich_text":
      node = richText(block, ctx);
      break;
    default:
      node = el("div", "bk-unsupported", `[${type || "unknown"} block]`);
  }
  if (block && block.block_id) node.dataset.blockId = block.block_id;
  node.dataset.blockType = type || "";
  return node;
}

/** The body of a message: its blocks when it has any (as Slack shows them), else its mrkdwn text. */
export function messageBody(message, ctx) {
  const body = el("div", "message-body");
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length) {
    for (const block of blocks) body.append(blockNode(block, ctx));
  } else {
    body.append(mrkdwn(message.text, ctx));
  }
  for (const attachment of message.attachments || []) {
    const node = el("div", "attachment");
    const colors = { good: "#2eb67d", warning: "#ecb22e", danger: "#e01e5a" };
    const color = colors[attachment.color] || String(attachment.color || "");
    if (/^#?[0-9a-f]{3,8}$/i.test(color)) node.style.borderLeftColor = color.startsWith("#") ? color : "#" + color;
    for (const block of attachment.blocks || []) node.append(blockNode(block, ctx));
    if (attachment.text || attachment.fallback) node.append(mrkdwn(attachment.text || attachment.fallback, ctx));
    body.append(node);
  }
  for (const file of message.files || []) body.append(fileNode(file));
  return body;
}

const INLINE_IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

// A file the app uploaded: images inline (served by the emulator itself), anything else as a download.
function fileNode(file) {
  const url = `_emulator/files/${encodeURIComponent(String(file.id || ""))}`;
  const title = String(file.title || file.name || "file");
  if (INLINE_IMAGES.includes(file.mimetype)) {
    const figure = el("figure", "bk-image file-image");
    figure.append(el("figcaption", null, title));
    const img = el("img", "bk-image-img");
    img.src = url;
    img.alt = String(file.alt_txt || title);
    figure.append(img);
    return figure;
  }
  const link = el("a", "file-link", `\u{1F4C4} ${title}`);
  link.href = `${url}?download=1`;
  link.download = String(file.name || "file");
  return link;
}
