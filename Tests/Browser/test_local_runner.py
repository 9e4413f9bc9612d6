"""The local runner (./Deploy/local) keeps the platform up: a service killed with SIGKILL is started again by its
supervisor, says so in logs/runner.log, and the rest of the platform (the gateway, PostgreSQL) never stops."""
import os
import pathlib
import signal
import time
import urllib.error
import urllib.request


def ready(url):
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_a_killed_service_is_started_again_and_the_platform_stays_up(demo, base_url):
    state = pathlib.Path(demo["stateDirectory"])
    messaging = demo["services"]["messaging"]
    pid_file = state / "run" / "messaging.pid"
    killed = int(pid_file.read_text())
    os.kill(killed, 0)  # the process the runner named is running
    log = state / "logs" / "runner.log"
    said_before = log.read_text() if log.exists() else ""

    os.kill(killed, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and not (log.exists() and log.read_text() != said_before):
        time.sleep(0.1)
    said = log.read_text()[len(said_before):]
    assert "messaging exited (status 137)" in said, said
    assert "starting it again" in said, said

    # a new process, ready within the backoff and its start; the gateway and the other services never went away
    deadline = time.time() + 60
    while time.time() < deadline and not (int(pid_file.read_text()) != killed and ready(messaging)):
        assert ready(base_url), "the gateway stopped while messaging was down"
        time.sleep(0.25)
    restarted = int(pid_file.read_text())
    assert restarted != killed
    os.kill(restarted, 0)
    assert ready(messaging), "messaging did not come back within a minute"
    # every service ready (each /readyz reads the database: PostgreSQL stayed up)
    for name, url in demo["services"].items():
        assert ready(url), f"{name} is not ready after messaging's restart"
