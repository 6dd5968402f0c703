"""An SMTP server for the jobq.email tests, on aiosmtpd (Debian's python3-aiosmtpd).

Usage: smtp_server.py OUTDIR [--tls none|starttls|implicit] [--cert PEM --key PEM]
                             [--auth USER:PASSWORD]

Listens on 127.0.0.1 on a free port and prints {"port": N} as its first line. Every accepted
message is written to OUTDIR as N.eml (the bytes received) and then N.json: the envelope and the
message as Python's own MIME parser reads it (email.policy.default), so that the tests check
what a real mail reader would see rather than what the sender meant to write.

Scripted behaviour, chosen by the test through the message itself:
  recipient local part starting "rcpt550-"  -> 550 for that RCPT TO
  recipient local part starting "rcpt451-"  -> 451 for that RCPT TO
  subject containing "[reject554]"          -> 554 at the end of DATA
  subject containing "[defer451]"           -> 451 at the end of DATA
  subject containing "[stall]"              -> never answers the end of DATA (writes
                                               stalled-N.txt first, so a test knows it is there)
--tls starttls requires STARTTLS before MAIL (require_starttls); --tls implicit is TLS from the
first byte (smtps). --auth requires AUTH (PLAIN or LOGIN) with those credentials, over TLS.
"""

import argparse
import asyncio
import email
import email.policy
import hashlib
import json
import logging
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def part_summary(part):
    """One MIME part as a tree of plain data."""
    out = {
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "transfer_encoding": part.get("Content-Transfer-Encoding"),
        "defects": [type(d).__name__ for d in part.defects],
    }
    if part.is_multipart():
        out["parts"] = [part_summary(p) for p in part.iter_parts()]
    elif part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment":
        out["text"] = part.get_content()
    else:
        data = part.get_payload(decode=True) or b""
        out["size"] = len(data)
        out["sha256"] = hashlib.sha256(data).hexdigest()
    return out


def header_summary(msg):
    headers = {}
    for name, value in msg.items():
        entry = {"value": str(value)}
        addresses = getattr(value, "addresses", None)
        if addresses is not None:
            entry["addresses"] = [
                {"name": a.display_name, "address": a.addr_spec} for a in addresses
            ]
        headers.setdefault(name.lower(), []).append(entry)
    return headers


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.stalls = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("rcpt550-"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if local.startswith("rcpt451-"):
            return f"451 4.3.0 <{address}>: try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(msg.get("subject", ""))
        if "[reject554]" in subject:
            return "554 5.7.1 message refused by policy"
        if "[defer451]" in subject:
            return "451 4.7.1 greylisted, try again later"
        if "[stall]" in subject:
            self.stalls += 1
            marker = os.path.join(self.outdir, f"stalled-{self.stalls}.txt")
            with open(marker + ".tmp", "w") as f:
                f.write("stalled\n")
            os.rename(marker + ".tmp", marker)
            await asyncio.sleep(3600)
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None,
            "authenticated": bool(session.authenticated),
            "headers": header_summary(msg),
            "defects": [type(d).__name__ for d in msg.defects],
            "max_line_length": max((len(line) for line in raw.split(b"\r\n")), default=0),
            "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
            "body": part_summary(msg),
        }
        # The .json appears whole (rename): a reader never sees half of it.
        with open(base + ".json.tmp", "w") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 OK: queued as " + str(self.count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    credentials = None
    if args.auth:
        user, password = args.auth.split(":", 1)
        credentials = (user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and credentials == (
            auth_data.login,
            auth_data.password,
        )
        # handled=False: aiosmtpd then answers 535 itself (handled=True would leave it silent).
        return AuthResult(success=ok, handled=False)

    handler = Handler(args.outdir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(
            handler,
            hostname="jobq-test",
            loop=loop,
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
            authenticator=authenticator if credentials else None,
            auth_required=credentials is not None,
            # Implicit TLS is TLS too; aiosmtpd only counts STARTTLS as such.
            auth_require_tls=args.tls == "starttls",
        )

    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=0,
            ssl=context if args.tls == "implicit" else None,
        )
    )
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
