"""What can be run of deploy/ without a container runtime: the files parse, the commands
they name exist and accept their arguments, the environment they pass is what
`tuidang check --deploy` accepts, the proxy's configuration is valid and routes to
healthy app servers, and every metric the alerts and the dashboard name is exported.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import get_commands, load_command_class
from django.test import Client
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tuidang.lib.tests.test_deploy_check import deploy_check
from tuidang.testing.ports import free_port

DEPLOY = Path(__file__).resolve().parents[4] / "deploy"
INSTALLED_AT = "/opt/tuidang/bin/tuidang"  # where the systemd units expect the command
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def accepts(argv: list[str]) -> None:
    """``tuidang <argv>`` names a command of ours that parses these arguments."""
    name = argv[0]
    assert name in get_commands(), f"`tuidang {name}` is no command"
    command = load_command_class(get_commands()[name], name)
    command.create_parser("tuidang", name).parse_args(argv[1:])


def secret_files(environment: dict[str, str], into: Path) -> dict[str, str]:
    """``environment`` with each ``NAME_FILE`` pointing at a new secret in ``into``."""
    into.mkdir(mode=0o700, exist_ok=True)
    for name, value in environment.items():
        if name.endswith("_FILE"):
            path = into / Path(value).name
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
            environment[name] = str(path)
    return environment


# --- The image and the compose file ------------------------------------------------------


def test_the_compose_file_runs_two_app_servers_two_workers_a_proxy_and_the_databases() -> None:
    services = compose()["services"]
    assert {"proxy", "app1", "app2", "worker1", "worker2", "postgres", "redis"} <= set(services)
    for name in ("app1", "app2"):
        assert services[name]["command"][0] == "serve"
    for name in ("worker1", "worker2"):
        assert services[name]["command"] == ["worker"]
    for name in ("migrate", "app1", "app2", "worker1", "worker2"):
        service = services[name]
        accepts(service["command"])
        assert service["read_only"] is True
        assert service["user"] != "0" and not service["user"].startswith("0:")
        assert "/var/lib/tuidang" in " ".join(service["tmpfs"])
    proxy_files = [volume.split(":")[0] for volume in services["proxy"]["volumes"]]
    assert "./haproxy/haproxy.cfg" in proxy_files


def test_the_environment_the_compose_file_passes_passes_the_deployment_checklist(
    tmp_path: Path,
) -> None:
    environment = {
        name: str(value) for name, value in compose()["services"]["app1"]["environment"].items()
    }
    environment = secret_files(environment, tmp_path / "secrets")
    environment |= {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VAR_DIR": str(tmp_path)}
    declared = set(compose()["secrets"])
    assert {Path(path).name for path in environment.values() if "/secrets/" in path} <= declared

    result = deploy_check(environment)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_image_is_built_in_stages_and_runs_tuidang_as_nobody_in_particular() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    [user] = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user.split(":")[0] not in {"0", "root"}
    [entrypoint] = re.findall(r"^ENTRYPOINT (.+)$", dockerfile, re.M)
    [command] = re.findall(r"^CMD (.+)$", dockerfile, re.M)
    assert json.loads(entrypoint) == ["tuidang"]
    accepts(json.loads(command))


# --- Plain hosts -------------------------------------------------------------------------


def units() -> list[Path]:
    return sorted([*DEPLOY.glob("systemd/*.service"), *DEPLOY.glob("systemd/*.timer")])


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    tuidang = Path(shutil.which("tuidang") or Path(__import__("sys").executable).parent / "tuidang")
    for unit in units():
        text = unit.read_text().replace(INSTALLED_AT, str(tuidang))
        (tmp_path / unit.name).write_text(text)
        for line in re.findall(r"^ExecStart=\S+ (.+)$", text, re.M):
            accepts(line.split())
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # an unknown key is only a warning
    assert {"tuidang-serve.service", "tuidang-worker@.service"} <= {p.name for p in units()}


def test_the_environment_the_units_pass_passes_the_deployment_checklist(tmp_path: Path) -> None:
    environment: dict[str, str] = {}
    for line in (DEPLOY / "systemd" / "tuidang.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            environment[name] = value
    credentials = tmp_path / "credentials"
    serve = (DEPLOY / "systemd" / "tuidang-serve.service").read_text()
    for name, value in re.findall(r"^Environment=(\w+)=(\S+)$", serve, re.M):
        environment[name] = value.replace("%d", str(credentials))
    environment = secret_files(environment, credentials)
    loaded = set(re.findall(r"^LoadCredential=(\w+):", serve, re.M))
    assert {Path(path).name for path in environment.values() if str(credentials) in path} == loaded
    environment |= {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VAR_DIR": str(tmp_path)}

    result = deploy_check(environment)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- The proxy ---------------------------------------------------------------------------


def self_signed(into: Path) -> Path:
    """A certificate and its key in one PEM, as HAProxy takes them, for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotline.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = into / "hotline.pem"
    pem.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem


def proxy_config(tmp_path: Path, replacements: dict[str, str] | None = None) -> Path:
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    text = text.replace("/usr/local/etc/haproxy/tls/hotline.pem", str(self_signed(tmp_path)))
    for old, new in (replacements or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    return path


def test_the_proxy_configuration_is_valid(tmp_path: Path) -> None:
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(proxy_config(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
    assert "[ALERT]" not in result.stderr


class Proxy:
    def __init__(self, https: int, http: int, exporter: int, cafile: Path) -> None:
        self.https, self.http, self.exporter = https, http, exporter
        self.tls = ssl.create_default_context(cafile=str(cafile))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(
                f"https://127.0.0.1:{self.https}{path}", context=self.tls, timeout=10
            ) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def metrics(self) -> str:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.exporter}/metrics", timeout=10
        ) as response:
            text: str = response.read().decode()
            return text


@pytest.fixture
def proxy(tmp_path: Path, live_server: LiveServer, settings: Settings) -> Iterator[Proxy]:
    """deploy/haproxy/haproxy.cfg on free ports, in front of the test's live server as
    app1 and of a port where nothing answers as app2 (a server that died)."""
    # The health checks name the hotline, as the compose file's ALLOWED_HOSTS does.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "hotline.example.org"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # BEHIND_TLS_PROXY
    https, http, exporter, dead = free_port(), free_port(), free_port(), free_port()
    app = live_server.url.removeprefix("http://")
    config = proxy_config(
        tmp_path,
        {
            "bind :8080": f"bind 127.0.0.1:{http}",
            "bind :8443": f"bind 127.0.0.1:{https}",
            "bind :8405": f"bind 127.0.0.1:{exporter}",
            "server app1 app1:8000": f"server app1 {app}",
            "server app2 app2:8000": f"server app2 127.0.0.1:{dead}",
            "server app1 app1:8001": f"server app1 {app}",
            "server app2 app2:8001": f"server app2 127.0.0.1:{dead}",
            "    nameserver dns 127.0.0.11:53\n": "    nameserver dns 127.0.0.1:53\n",
        },
    )
    process = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield Proxy(https, http, exporter, tmp_path / "hotline.pem")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the redirect itself is what is looked at


def until(condition: Any, seconds: float = 20.0) -> None:
    """Poll ``condition`` (a callable) until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except OSError:
            pass  # the proxy is not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition} did not hold within {seconds} s")
        time.sleep(0.1)


def sample(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} is not exported")


@pytest.mark.django_db(transaction=True)
def test_the_proxy_serves_over_tls_from_the_healthy_server_and_keeps_metrics_in(
    proxy: Proxy,
) -> None:
    # The dead server is found by the health checks and left out of both pools.
    until(
        lambda: (
            sample(proxy.metrics(), "haproxy_backend_active_servers", proxy="telephony") == 1
            and sample(proxy.metrics(), "haproxy_backend_active_servers", proxy="people") == 1
        )
    )
    for _ in range(4):  # round robin would have sent one in two to the dead server
        assert proxy.get("/healthz")[0] == 200
    status, page = proxy.get("/")
    assert status == 200 and "<html" in page.lower()
    assert proxy.get("/metrics")[0] == 404  # for Prometheus inside the network only
    not_following = urllib.request.build_opener(NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        not_following.open(f"http://127.0.0.1:{proxy.http}/", timeout=10)
    assert redirected.value.code == 301
    assert redirected.value.headers["Location"].startswith("https://")


# --- Alerts and the dashboard ------------------------------------------------------------


def named_metrics() -> set[str]:
    """Every metric the alert rules and the dashboard name."""
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "tuidang.json").read_text())
    expressions += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return set(re.findall(r"\b(?:tuidang|haproxy)_[a-z_]+\b", " ".join(expressions)))


def exported(metrics: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in metrics.splitlines() if line[:1] != "#"}


@pytest.mark.django_db(transaction=True)
def test_every_metric_the_alerts_and_the_dashboard_name_is_exported(
    proxy: Proxy, live_server: LiveServer, settings: Settings
) -> None:
    settings.METRICS_TOKEN = "a token for Prometheus"
    until(lambda: proxy.get("/healthz")[0] == 200)
    proxy.get("/telephony/no-such-webhook")  # so the proxy has counted a webhook response
    unsigned = urllib.request.Request(  # noqa: S310  (http, built here)
        f"{live_server.url}/telephony/twilio/voice", data=b"CallSid=CA1", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError):  # refused, and timed as a webhook
        urllib.request.urlopen(unsigned, timeout=10)  # noqa: S310
    scrape = urllib.request.Request(  # noqa: S310  (http, built here)
        f"{live_server.url}/metrics", headers={"Authorization": "Bearer a token for Prometheus"}
    )
    with urllib.request.urlopen(scrape, timeout=10) as response:  # noqa: S310
        ours = response.read().decode()

    named = named_metrics()
    assert {"tuidang_workers_alive", "tuidang_log_checkpoint_size"} <= named
    assert "haproxy_backend_http_responses_total" in named
    missing = named - exported(ours) - exported(proxy.metrics())
    assert not missing, f"named but not exported: {sorted(missing)}"


@pytest.mark.django_db
def test_probes_and_the_scrape_inside_the_network_are_not_sent_to_https(
    client: Client, settings: Settings
) -> None:
    settings.SECURE_SSL_REDIRECT = True  # as behind the TLS proxy
    settings.METRICS_TOKEN = "a token for Prometheus"

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in {200, 503}
    scraped = client.get("/metrics", headers={"Authorization": "Bearer a token for Prometheus"})
    assert scraped.status_code == 200
    assert client.get("/").status_code == 301  # people are
