"""The sandbox image, built offline: debootstrap a minimal Debian, add the supervisor, import.

Docker Hub is never contacted. The Debian mirror is the one this machine's apt already uses
(or `FACTORY_DEBIAN_MIRROR`). The tag is a hash of the recipe and the supervisor's source, so a
changed supervisor means a new image, and an unchanged one is never rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from verified_factory.sandboxes.job import SandboxError

REPOSITORY = "verified-factory-sandbox"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-pytest", "python3-hypothesis")
SUPERVISOR = Path(__file__).with_name("inside") / "supervisor.py"
SUPERVISOR_IN_IMAGE = "/opt/verified-factory/supervisor.py"
DOCKERFILE = Path(__file__).with_name("Dockerfile")
_APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


def image_tag() -> str:
    recipe = "\n".join([SUITE, *PACKAGES, SUPERVISOR.read_text(), Path(__file__).read_text()])
    return f"{REPOSITORY}:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def image_exists(client: docker.DockerClient, tag: str | None = None) -> bool:
    try:
        client.images.get(tag or image_tag())
    except docker.errors.ImageNotFound:
        return False
    return True


def debian_mirror() -> str:
    """The Debian mirror apt uses here; the sandbox image comes from the same place."""
    configured = os.environ.get("FACTORY_DEBIAN_MIRROR")
    if configured:
        return configured
    files = []
    for source in _APT_SOURCES:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    for path in files:
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^URIs:\s*(\S+)", text, re.MULTILINE):
            if not match.group(1).rstrip("/").endswith("-security"):
                return match.group(1)
        for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", text, re.MULTILINE):
            if not match.group(1).rstrip("/").endswith("-security"):
                return match.group(1)
    raise SandboxError(
        "no Debian mirror found in this machine's apt sources; set FACTORY_DEBIAN_MIRROR"
    )


def build_image(client: docker.DockerClient, log: Callable[[str], None] = print) -> str:
    """Build the image from debootstrap unless it exists; return its tag."""
    tag = image_tag()
    if image_exists(client, tag):
        log(f"{tag} is already built")
        return tag
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="vf-rootfs-") as scratch:
        root = Path(scratch) / "root"
        mirror = debian_mirror()
        log(f"debootstrap {SUITE} with {', '.join(PACKAGES)} (a minute or so)")
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            mirror,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.splitlines()[-5:] + done.stderr.splitlines()[-5:])
            raise SandboxError(f"debootstrap failed:\n{tail}")
        _finish_root(root)
        archive = Path(scratch) / "root.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        repository, version = tag.split(":")
        log(f"importing {tag}")
        client.api.import_image_from_file(str(archive), repository=repository, tag=version)
    if not image_exists(client, tag):
        raise SandboxError(f"docker import did not produce {tag}")
    return tag


def _finish_root(root: Path) -> None:
    """Add the supervisor and the mount points; drop apt's caches to keep the image small."""
    target = root / SUPERVISOR_IN_IMAGE.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SUPERVISOR, target)
    target.chmod(0o644)
    # Docker copies a tmpfs mount point's mode from the image, whatever `mode=` says.
    (root / "work").mkdir(exist_ok=True)
    (root / "work").chmod(0o1777)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / cache).glob("*"):
            if item.is_file():
                item.unlink()


def build_from_dockerfile(client: docker.DockerClient, log: Callable[[str], None] = print) -> str:
    """For users whose engine reaches a registry: the same image from a Dockerfile."""
    tag = image_tag()
    log(f"docker build {tag} from {DOCKERFILE.name}")
    with tempfile.TemporaryDirectory(prefix="vf-context-") as context:
        shutil.copy(DOCKERFILE, Path(context) / "Dockerfile")
        shutil.copy(SUPERVISOR, Path(context) / "supervisor.py")
        client.images.build(path=context, tag=tag, rm=True)
    return tag
