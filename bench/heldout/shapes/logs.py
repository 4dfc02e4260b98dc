"""Logs in the formats servers write: syslog, JSON lines, nginx/apache access logs, logfmt, Java and Python
stack traces, sshd and audit logs; with addresses, e-mails, tokens, epoch and ISO timestamps, request ids."""

from __future__ import annotations

from bench.heldout.doc import DocBuilder, fill
from bench.heldout.slots import SLOTS, Ctx
from bench.heldout.template import Template, text

L = "log"


def repeated(name: str, line: str, low: int = 3, high: int = 8, head: str = "") -> Template:
    """A log of several lines of one format."""

    def write(ctx: Ctx, d: DocBuilder) -> None:
        d.text(head)
        for _ in range(ctx.rng.randint(low, high)):
            fill(d, SLOTS, ctx, line)

    return Template(L, name, write)


TEMPLATES: tuple[Template, ...] = (
    repeated(
        "syslog-sshd", "«iso» bastion-1 sshd[«count»]: Accepted publickey for «user» from «ip» port «count» ssh2\n"
    ),
    repeated(
        "jsonl-api",
        '{"ts":«epoch_ms»,"level":"info","msg":"request served","request_id":"«request_id»",'
        '"client_ip":"«ip»","user":"«email»","status":«status»,"duration_ms":«ms»}\n',
    ),
    repeated(
        "nginx-access",
        '«ipv4» - - [14/Mar/2025:10:12:44 +0000] "GET /api/v2/orders/«order»?'
        'include=items HTTP/1.1" «status» «count» "-" "Mozilla/5.0 (Macintosh) Chrome/«version»"\n',
    ),
    repeated(
        "logfmt-worker",
        'time=«iso» level=info msg="charge captured" order=«order» amount=«price» '
        "customer_email=«email» trace_id=«request_id» build=«build»\n",
    ),
    text(
        L,
        "java-stack",
        """«iso» ERROR [http-nio-8080-exec-7] c.a.p.PaymentController - Payment failed for «email»
org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection; url=jdbc:postgresql://«host»:5432/«dbname»?user=«user»&password=«password»
	at org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
	at com.acme.payments.LedgerRepository.save(LedgerRepository.java:«count»)
	at com.acme.payments.PaymentController.capture(PaymentController.java:«count»)
Caused by: org.postgresql.util.PSQLException: Connection to «ip»:5432 refused.
	... 42 common frames omitted
request_id=«request_id» order=«order» card_last4=«int»
""",
    ),
    text(
        L,
        "python-traceback",
        """Traceback (most recent call last):
  File "/srv/app/worker.py", line «count», in handle
    client = Client(api_key="«api_key»", region="eu")
  File "/srv/app/.venv/lib/python3.11/site-packages/vendor/client.py", line «count», in __init__
    raise AuthError(f"invalid key for {account}")
vendor.errors.AuthError: invalid key for «email»
[«iso»] job «uuid» failed after «ms» ms (attempt «int»)
""",
    ),
    repeated(
        "audit-json",
        '{"@timestamp":"«iso»","event":"user.update","actor":"«email»","target":{"name":'
        '"«person»","phone":"«phone»"},"source_ip":"«ip»","session":"«uuid»"}\n',
        2,
        6,
    ),
    repeated(
        "apache-combined",
        '«ip» - «user» [10/Oct/2025:13:55:36 -0700] "POST /login HTTP/1.1" «status» '
        '«count» "https://portal.«host»/" "curl/«version»"\n',
    ),
    repeated(
        "k8s-events",
        "«iso»  Warning  BackOff  pod/orders-api-«sha»  Back-off restarting failed container "
        "(node «ipv4», image tag «version»)\n",
        2,
        6,
        "LAST SEEN  TYPE  REASON  OBJECT  MESSAGE\n",
    ),
    repeated(
        "debug-headers",
        '«iso» DEBUG outbound request host=api.«host» authorization="Bearer «vendor_value»" '
        "x-request-id=«request_id»\n",
        1,
        3,
    ),
    repeated(
        "auth-failures",
        "«epoch» auth-svc WARN login failed user=«email» ip=«ip» reason=bad_password attempt=«int»\n",
        3,
        8,
    ),
    repeated(
        "ci-log",
        "[«iso»] step «int»/9: deploy to «env» as «user» with token=«vendor_value» (build «build», commit «sha»)\n",
        1,
        3,
        "Run ./scripts/deploy\n",
    ),
    text(
        L,
        "mail-log",
        """«iso» postfix/smtp[«count»]: «request_id»: to=<«email»>, relay=mx.«host»[«ipv4»]:25, \
delay=«int», status=sent (250 2.0.0 OK «epoch»)
«iso» postfix/smtp[«count»]: «request_id»: to=<«email»>, relay=mx.«host»[«ipv4»]:25, delay=«int», status=deferred
«iso» postfix/qmgr[«count»]: «request_id»: from=<«example_email»>, size=«count», nrcpt=1 (queue active)
""",
    ),
    repeated(
        "ipv6-firewall",
        "«iso» kernel: [UFW BLOCK] IN=eth0 OUT= MAC=«mac» SRC=«ipv6» DST=«ipv6» LEN=«count» "
        "PROTO=TCP SPT=«count» DPT=443\n",
        2,
        6,
    ),
)
