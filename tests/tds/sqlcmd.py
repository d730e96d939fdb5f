"""A sqlcmd stand-in that sends its -Q through a real SQL Server driver, for clients that run
`sqlcmd -S … -U … -P … -Q "…"` (popen, or `vdisim backup --sqlcmd`): the tests put it on PATH
as `sqlcmd` to drive vdisim's TDS port with python-tds or Microsoft's ODBC Driver 18.

usage: sqlcmd.py [-S server] [-U login] [-P password] [-b] [-Q query]  (other switches ignored)
  $VDISIM_SQLCMD_DRIVER  pytds (default) or odbc (mssql-python: Encrypt=yes,
                         TrustServerCertificate=yes)
  -S host,port           the TDS endpoint; nothing, or a local name without a port (., localhost,
                         (local)): $VDISIM_TDS (what `vdisim conform` gives its clients)
Prints informational messages as their text, errors as sqlcmd does (`Msg N, Level L, State S,
Server X, Line n` then the text), result rows tab-separated. Exit code 1 after an error under
-b, or when the login fails; 0 otherwise.
"""
import os
import sys

args = sys.argv[1:]
opts = {}
flags = set()
i = 0
while i < len(args):
    a = args[i]
    if len(a) >= 2 and a[0] == "-" and a[1] in "SUPQdlt":
        if len(a) > 2:
            opts[a[1]] = a[2:]
        elif i + 1 < len(args):
            i += 1
            opts[a[1]] = args[i]
    elif len(a) >= 2 and a[0] == "-":
        flags.add(a[1])
    i += 1

server = opts.get("S", "")
if "," not in server and not server.lower().startswith("tcp:"):
    server = os.environ.get("VDISIM_TDS", "")
if server.lower().startswith("tcp:"):
    server = server[4:]
host, _, port = server.partition(",")
host = host if host not in ("", ".", "(local)") else "127.0.0.1"
port = int(port or 1433)
user = opts.get("U", "sa")
password = opts.get("P", os.environ.get("SQLCMDPASSWORD", ""))
query = opts.get("Q", "")
driver = os.environ.get("VDISIM_SQLCMD_DRIVER", "pytds")


def out(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_error(e):
    if driver == "pytds":
        number = getattr(e, "msg_no", None) or getattr(e, "number", 0) or 0
        out("Msg %s, Level %s, State %s, Server %s, Line %s" % (
            number, getattr(e, "severity", 16), getattr(e, "state", 1),
            getattr(e, "srvname", "") or "VDISIM", getattr(e, "line", 1)))
        out(getattr(e, "text", None) or str(e))
    else:
        out(str(e))


printed = 0


def text_of(m):
    text = m[1] if isinstance(m, tuple) else m
    if hasattr(text, "text"):
        text = text.text
    elif isinstance(text, tuple):
        text = text[0]
    return str(text).split("]")[-1].strip() if driver == "odbc" else str(text)


def print_messages(cur, errors=True):
    """The driver's messages not printed yet (its list only grows)."""
    global printed
    messages = list(getattr(cur, "messages", None) or [])
    for m in messages[printed:]:
        out(text_of(m))
    printed = len(messages)


try:
    if driver == "pytds":
        import pytds
        conn = pytds.connect(server=host, port=port, user=user, password=password,
                             autocommit=True, login_timeout=20)
    else:
        import mssql_python
        conn = mssql_python.connect(
            f"Server={host},{port};UID={user};PWD={password};Encrypt=yes;TrustServerCertificate=yes",
            autocommit=True)
except Exception as e:
    print_error(e)
    sys.exit(1)

failed = False
cur = conn.cursor()
try:
    cur.execute(query)
    while True:
        print_messages(cur)
        if cur.description:
            for row in cur.fetchall():
                out("\t".join("NULL" if v is None else str(v) for v in row))
        if not cur.nextset():
            break
    print_messages(cur)
except Exception as e:
    # The error itself is in the driver's messages too: it is printed once, as sqlcmd does.
    messages = list(getattr(cur, "messages", None) or [])
    text = str(getattr(e, "text", "") or "")
    while messages and text and text in text_of(messages[-1]):
        messages.pop()
    for m in messages[printed:]:
        out(text_of(m))
    print_error(e)
    failed = True
sys.exit(1 if failed and "b" in flags else 0)
