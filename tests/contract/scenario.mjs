// A storefront + tracking scenario written the way a new user of the official OrderCloud JavaScript SDK
// would write it, run against `ordercloud-tracking serve`. Usage: node scenario.mjs BASE_URL
//
// Every SDK call is recorded; the run prints ONE JSON document on stdout:
//   {"calls": [{"name", "ok", "status", "errorCode"}...], "checks": [{"name", "ok", "detail"}...],
//    "deliveries": [{"type", "verified", "enveloped", "body"}...]}
// The Python test (test_js_sdk.py) asserts on it. Nothing here talks to anything but loopback.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import sdk from "ordercloud-javascript-sdk";

const { Configuration, Auth, ApiClients, DeliveryConfigurations, TrackingEvents, Orders, LineItems, Me, Cart } = sdk;

const baseApiUrl = process.argv[2];
if (!baseApiUrl) {
  console.error("usage: node scenario.mjs BASE_URL");
  process.exit(2);
}
Configuration.Set({ baseApiUrl, timeoutInMilliseconds: 10000 });

const SECRET = "js-contract-secret";
const calls = [];
const checks = [];
const deliveries = [];

// --- a receiver for the Http delivery target, verifying x-oc-hash as OrderCloud's own samples do ---------
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const expected = createHmac("sha256", SECRET).update(raw).digest("base64");
    const body = JSON.parse(raw.toString("utf8"));
    const enveloped = body !== null && typeof body === "object" && "Headers" in body && "Payload" in body;
    deliveries.push({
      type: enveloped ? body.Headers.type : null,
      verified: req.headers["x-oc-hash"] === expected,
      enveloped,
      body,
    });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end("{}");
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/oc/events`;

async function call(name, fn) {
  try {
    const result = await fn();
    calls.push({ name, ok: true, status: null, errorCode: null });
    return result;
  } catch (error) {
    const status = error?.status ?? error?.response?.status ?? null;
    const errorCode = error?.errors?.[0]?.ErrorCode ?? error?.response?.data?.Errors?.[0]?.ErrorCode ?? null;
    calls.push({ name, ok: false, status, errorCode, message: String(error?.message ?? error) });
    return undefined;
  }
}

async function expectError(name, fn) {
  try {
    await fn();
    checks.push({ name, ok: false, detail: "no error" });
  } catch (error) {
    const status = error?.status ?? error?.response?.status ?? null;
    const errorCode = error?.errors?.[0]?.ErrorCode ?? null;
    checks.push({ name, ok: status >= 400 && status < 500 && typeof errorCode === "string", detail: { status, errorCode } });
  }
}

function check(name, condition, detail = null) {
  checks.push({ name, ok: Boolean(condition), detail });
}

// --- admin: the integration that configures tracking (client credentials, no scope: all assigned roles) ---
const admin = await call("Auth.ClientCredentials", () => Auth.ClientCredentials("admin-client-secret", "admin-client"));
const asAdmin = { accessToken: admin?.access_token };

const clients = await call("ApiClients.List", () => ApiClients.List({}, asAdmin));
check("api clients listed", clients?.Items?.some((c) => c.ID === "storefront"));
const storefront = await call("ApiClients.Get", () => ApiClients.Get("storefront", asAdmin));
check("storefront allows anonymous shopping", storefront?.IsAnonBuyer === true);
await call("ApiClients.Patch", () => ApiClients.Patch("storefront", { AnonymousTokenDuration: 600 }, asAdmin));

const config = {
  ID: "dc-js",
  Name: "JS contract receiver",
  Enabled: true,
  DeliveryTargets: { Http: { Endpoint: receiverUrl, Secret: SECRET } },
};
await call("DeliveryConfigurations.Create", () => DeliveryConfigurations.Create(config, asAdmin));
const dc = await call("DeliveryConfigurations.Get", () => DeliveryConfigurations.Get("dc-js", asAdmin));
check("secret is write-only", dc !== undefined && !JSON.stringify(dc).includes(SECRET));
const dcs = await call("DeliveryConfigurations.List", () =>
  DeliveryConfigurations.List({ filters: { ID: "dc-js" } }, asAdmin),
);
check("delivery config listed by filter", dcs?.Items?.length === 1);
await call("DeliveryConfigurations.Patch", () =>
  DeliveryConfigurations.Patch("dc-js", { Name: "JS contract receiver (patched)" }, asAdmin),
);
await call("DeliveryConfigurations.Save", () => DeliveryConfigurations.Save("dc-js", config, asAdmin));

const eventTypes = ["UserLoggedIn", "LineItemAdded", "LineItemUpdated", "OrderSubmitted"];
for (const EventType of eventTypes) {
  await call(`TrackingEvents.Create ${EventType}`, () =>
    TrackingEvents.Create(
      { ID: `te-js-${EventType}`, Name: EventType, ClientID: "storefront", EventType, DeliveryConfigID: "dc-js" },
      asAdmin,
    ),
  );
}
const events = await call("TrackingEvents.List", () =>
  TrackingEvents.List({ filters: { ClientID: "storefront" }, sortBy: ["ID"] }, asAdmin),
);
check("four tracking events", events?.Items?.length === 4, events?.Meta);
const te = await call("TrackingEvents.Get", () => TrackingEvents.Get("te-js-LineItemAdded", asAdmin));
check("tracking event read back", te?.DeliveryConfigID === "dc-js");
await call("TrackingEvents.Patch", () => TrackingEvents.Patch("te-js-LineItemAdded", { Name: "Added" }, asAdmin));
await call("TrackingEvents.Save", () =>
  TrackingEvents.Save(
    "te-js-LineItemAdded",
    { ID: "te-js-LineItemAdded", Name: "Added", ClientID: "storefront", EventType: "LineItemAdded", DeliveryConfigID: "dc-js" },
    asAdmin,
  ),
);

// --- an anonymous shopper with a beacon ID, who then logs in -------------------------------------------
const anon = await call("Auth.Anonymous", () =>
  Auth.Anonymous("storefront", undefined, undefined, { anonuserid: "beacon-js-1" }),
);
const asAnon = { accessToken: anon?.access_token };
const order = await call("Orders.Create (anonymous)", () => Orders.Create("Outgoing", {}, asAnon));
const line = await call("LineItems.Create", () =>
  LineItems.Create("Outgoing", order?.ID, { ProductID: "SKU-MUG", Quantity: 2 }, asAnon),
);
check("line priced from the price schedule", line?.UnitPrice === 12.5, line?.UnitPrice);
await call("LineItems.Patch", () => LineItems.Patch("Outgoing", order?.ID, line?.ID, { Quantity: 3 }, asAnon));
const lines = await call("LineItems.List", () => LineItems.List("Outgoing", order?.ID, {}, asAnon));
check("one line of three", lines?.Items?.length === 1 && lines.Items[0].Quantity === 3);
await call("LineItems.Get", () => LineItems.Get("Outgoing", order?.ID, line?.ID, asAnon));
const anonOrders = await call("Me.ListOrders (anonymous)", () => Me.ListOrders({}, asAnon));
check("anonymous shopper sees the order", anonOrders?.Items?.some((o) => o.ID === order?.ID));

const jane = await call("Auth.Login", () => Auth.Login("jane", "jane-password", "storefront"));
const asJane = { accessToken: jane?.access_token };
const me = await call("Me.Get", () => Me.Get(asJane));
check("logged in as jane", me?.Username === "jane");
await call("Me.TransferAnonUserOrder", () => Me.TransferAnonUserOrder({ anonUserToken: anon?.access_token }, asJane));
const janeOrders = await call("Me.ListOrders", () => Me.ListOrders({}, asJane));
check("the anonymous order now belongs to jane", janeOrders?.Items?.some((o) => o.ID === order?.ID));
const future = await call("Me.ListOrders from", () => Me.ListOrders({ from: "2100-01-01" }, asJane));
check("from bounds the order date", future?.Items?.length === 0, future?.Meta);
const past = await call("Me.ListOrders to", () => Me.ListOrders({ to: "2000-01-01" }, asJane));
check("to bounds the order date", past?.Items?.length === 0, past?.Meta);
const submitted = await call("Orders.Submit", () => Orders.Submit("Outgoing", order?.ID, asJane));
check("order submitted", submitted?.IsSubmitted === true);
await call("Orders.Get", () => Orders.Get("Outgoing", order?.ID, asJane));
await expectError("a line item cannot be added to a submitted order", () =>
  LineItems.Create("Outgoing", order?.ID, { ProductID: "SKU-TEE", Quantity: 1 }, asJane),
);

// --- the seller side sees the order --------------------------------------------------------------------
const incoming = await call("Orders.List Incoming", () => Orders.List("Incoming", {}, asAdmin));
check("admin sees the submitted order as incoming", incoming?.Items?.some((o) => o.ID === order?.ID));
await call("Orders.List All", () => Orders.List("All", {}, asAdmin));
await call("Orders.Get Incoming", () => Orders.Get("Incoming", order?.ID, asAdmin));

// --- another anonymous shopper registers instead of logging in, then uses the cart --------------------
const anon2 = await call("Auth.Anonymous (second)", () =>
  Auth.Anonymous("storefront", undefined, undefined, { anonuserid: "beacon-js-2" }),
);
const asAnon2 = { accessToken: anon2?.access_token };
const cartLine = await call("Cart.CreateLineItem", () => Cart.CreateLineItem({ ProductID: "SKU-TEE", Quantity: 1 }, asAnon2));
await call("Cart.Get", () => Cart.Get(asAnon2));
await call("Cart.ListLineItems", () => Cart.ListLineItems({}, asAnon2));
await call("Cart.PatchLineItem", () => Cart.PatchLineItem(cartLine?.ID, { Quantity: 2 }, asAnon2));
const registered = await call("Me.Register", () =>
  Me.Register(
    { Username: "js-shopper", Password: "js-shopper-Passw0rd!", FirstName: "Jay", LastName: "Ess", Email: "js@example.com", Active: true },
    { anonUserToken: anon2?.access_token },
    asAnon2,
  ),
);
check("register returns a token", typeof registered?.access_token === "string");
const asNew = { accessToken: registered?.access_token };
const newCart = await call("Cart.Get (registered)", () => Cart.Get(asNew));
const newLines = await call("Cart.ListLineItems (registered)", () => Cart.ListLineItems({}, asNew));
check("register keeps the anonymous cart", newLines?.Items?.length === 1, newCart?.ID);
await call("Cart.DeleteLineItem", () => Cart.DeleteLineItem(newLines?.Items?.[0]?.ID, asNew));
await call("Cart.CreateLineItem (registered)", () => Cart.CreateLineItem({ ProductID: "SKU-CAP", Quantity: 1 }, asNew));
await call("Cart.Submit", () => Cart.Submit(asNew));

// --- clean up: deletes answer 204 ------------------------------------------------------------------------
for (const EventType of eventTypes) {
  await call(`TrackingEvents.Delete ${EventType}`, () => TrackingEvents.Delete(`te-js-${EventType}`, asAdmin));
}
await call("DeliveryConfigurations.Delete", () => DeliveryConfigurations.Delete("dc-js", asAdmin));
const after = await call("TrackingEvents.List (after delete)", () => TrackingEvents.List({}, asAdmin));
check("no tracking events left", after?.Items?.length === 0);

receiver.closeAllConnections();
await new Promise((resolve) => receiver.close(resolve));
process.stdout.write(JSON.stringify({ calls, checks, deliveries }));
