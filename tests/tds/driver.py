"""Runs one scenario through a real SQL Server driver against vdisim's TDS port and prints
the outcome as one JSON object (tests/tds_drivers.rs reads it).

usage: driver.py pytds|odbc PORT PASSWORD ENCRYPT SCENARIO [SQL] [TIMEOUT]
  ENCRYPT: off | yes | no | strict:CERT.pem  (pytds: off or yes)
  basic:  @@VERSION, sys.databases, a parameterised query, an error with its number
  run:    SQL with INFO messages collected; TIMEOUT (s) cancels it (ATTENTION), then the same
          connection runs SELECT @@SERVERNAME
"""
import json
import sys
import time

driver, port, password, encrypt, scenario = sys.argv[1:6]
sql = sys.argv[6] if len(sys.argv) > 6 else None
timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 0


def connect():
    if driver == "pytds":
        import pytds
        kwargs = dict(server="127.0.0.1", port=int(port), user="sa", password=password,
                      autocommit=True, login_timeout=20)
        if timeout:
            kwargs["timeout"] = timeout
        return pytds.connect(**kwargs)
    import mssql_python
    if encrypt.startswith("strict:"):
        tls = "Encrypt=strict;ServerCertificate=" + encrypt.split(":", 1)[1]
    else:
        tls = f"Encrypt={encrypt};TrustServerCertificate=yes"
    conn = mssql_python.connect(f"Server=127.0.0.1,{port};UID=sa;PWD={password};{tls}",
                                autocommit=True)
    if timeout:
        conn.timeout = int(timeout)
    return conn


def error_of(e):
    if driver == "pytds":
        return {"number": getattr(e, "msg_no", None) or getattr(e, "number", None), "text": str(e),
                "kind": type(e).__name__}
    text = str(e)
    number = None
    for m in getattr(e, "messages", []) or []:
        pass
    return {"number": number, "text": text, "kind": type(e).__name__}


def messages_of(cur, conn):
    if driver == "pytds":
        return [str(m[1]) if isinstance(m, tuple) else str(m) for m in cur.messages or []]
    return [m[1] if isinstance(m, tuple) else str(m) for m in cur.messages or []]


out = {"driver": driver}
conn = connect()
cur = conn.cursor()
if scenario == "basic":
    cur.execute("SELECT @@VERSION")
    out["version"] = cur.fetchall()[0][0]
    cur.execute("SELECT name FROM sys.databases")
    out["databases"] = [r[0] for r in cur.fetchall()]
    marker = "%s" if driver == "pytds" else "?"
    try:
        cur.execute(f"SELECT {marker} + 1, {marker}", (41, "forty-one"))
        out["param"] = {"rows": [list(r) for r in cur.fetchall()]}
    except Exception as e:
        out["param"] = {"error": error_of(e)}
    try:
        cur.execute("SELECT name FROM sys.databases WHERE name = 'x' ORDER BY")
        out["error"] = None
    except Exception as e:
        out["error"] = error_of(e)
    try:
        cur.execute("BACKUP DATABASE nosuchdb TO VIRTUAL_DEVICE = 'x'")
        out["error911"] = None
    except Exception as e:
        out["error911"] = error_of(e)
elif scenario == "run":
    started = time.monotonic()
    messages = []
    try:
        cur.execute(sql)
        messages += messages_of(cur, conn)
        while driver == "odbc" and cur.nextset():
            messages += messages_of(cur, conn)
        out["error"] = None
    except Exception as e:
        messages += messages_of(cur, conn)
        out["error"] = error_of(e)
    out["seconds"] = round(time.monotonic() - started, 3)
    out["messages"] = messages
    if driver == "pytds":
        conn.timeout = None if hasattr(conn, "timeout") else None
    else:
        conn.timeout = 0
    try:
        cur2 = conn.cursor()
        cur2.execute("SELECT @@SERVERNAME")
        out["after"] = cur2.fetchall()[0][0]
    except Exception as e:
        out["after"] = {"error": error_of(e)}
print(json.dumps(out))
