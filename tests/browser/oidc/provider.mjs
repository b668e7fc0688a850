// A real OpenID Connect provider (panva's oidc-provider) for Dugnad's browser tests.
//
//   OIDC_PORT=9100 OIDC_REDIRECT_URI=http://127.0.0.1:8000/accounts/oidc/testidp/login/callback/ \
//     node provider.mjs
//
// Listens on 127.0.0.1 only, with one fixed client and a few fixed people. Its
// own development sign-in page asks for a login (the person's key below) and
// any password. Prints "ready <issuer>" once it listens.
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT || 9100);
const issuer = `http://127.0.0.1:${port}`;

export const CLIENT_ID = "dugnad-test";
export const CLIENT_SECRET = "dugnad-test-secret";

const people = {
  nora: {
    sub: "nora-1",
    name: "Nora Brekke",
    given_name: "Nora",
    family_name: "Brekke",
    email: "nora@example.org",
    email_verified: true,
  },
  kari: {
    sub: "kari-1",
    name: "Kari Nordmann",
    given_name: "Kari",
    family_name: "Nordmann",
    email: "kari@example.org",
    email_verified: true,
  },
  // As ID-porten: the national identity number (pid), a name, no e-mail address.
  ola: {
    sub: "ola-1",
    pid: "24079409630",
    name: "Ola Nordmann",
  },
  noname: {
    sub: "noname-1",
    email: "noname.person@example.org",
    email_verified: true,
  },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: (process.env.OIDC_REDIRECT_URI || "").split(" ").filter(Boolean),
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  claims: {
    openid: ["sub", "pid"],
    profile: ["name", "given_name", "family_name"],
    email: ["email", "email_verified"],
  },
  async findAccount(ctx, id) {
    const person = people[id];
    if (!person) {
      return undefined;
    }
    return { accountId: id, async claims() { return { ...person }; } };
  },
  // A first-party client: no consent screen, as with ID-porten.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ["dugnad-browser-test-cookie-key"] },
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
