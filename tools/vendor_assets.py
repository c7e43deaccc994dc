"""Copy the book's web assets (MathJax, require.js, the ipywidgets html-manager) into book/_vendor.

Jupyter Book 1 loads these from CDNs by default, so an offline reader sees raw TeX and no widgets.
We fetch pinned npm packages with the ordinary client (`npm pack`), check each tarball against a
pinned sha512, and extract only the files the pages need into book/_vendor/<folder>/, which
_config.yml lists in `html_static_path` (so they are served from `_static/<folder>/...`).

    .venv/bin/python tools/vendor_assets.py          # no-op (well under a second) when in place
    .venv/bin/python tools/vendor_assets.py --force  # re-extract from the cache

Tarballs are cached in $RNN_DATA_DIR/npm, or ~/.cache/rnn-from-the-ground-up/npm.
Exit status: 0 on success, 1 with a one-paragraph explanation otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "book" / "_vendor"
STAMP_NAME = ".vendored.json"


@dataclass(frozen=True)
class Package:
    name: str  # npm name
    version: str  # exact version
    integrity: str  # npm's "integrity" field: sha512 of the tarball, base64 (SRI form)
    folder: str  # destination: book/_vendor/<folder>/
    check_file: str  # a file under <folder> whose presence means "extracted"

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_name(self) -> str:  # what `npm pack` calls the file
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


PACKAGES = [
    # MathJax 3: the whole es5/ tree, because TeX extensions and CHTML fonts load on demand.
    Package("mathjax", "3.2.2",
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
            "mathjax", "es5/tex-mml-chtml.js"),
    # The version myst-nb 1.4.0 uses by default; embed-amd.js plus the icon fonts it references.
    Package("@jupyter-widgets/html-manager", "1.0.6",
            "sha512-+Mn+Ra8wyIHrYaUpfmf9A3dsLkt/NuwzPQN8sthdxBD35VV5cOJbpmgMhNR27n/rmP3mKyEe0PWCJrtZrXTXDQ==",
            "html-manager", "dist/embed-amd.js"),
    Package("requirejs", "2.3.7",
            "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
            "requirejs", "require.js"),
]


class VendorError(Exception):
    """A problem the user must fix; printed without a traceback."""


def cache_dir() -> Path:
    data_dir = os.environ.get("RNN_DATA_DIR")
    base = Path(data_dir) if data_dir else Path.home() / ".cache" / "rnn-from-the-ground-up"
    return base / "npm"


def sri_sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def is_in_place(pkg: Package) -> bool:
    """Cheap check: the stamp names the pinned version and integrity, and the key file exists."""
    dest = VENDOR_DIR / pkg.folder
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    return (stamp.get("spec") == pkg.spec and stamp.get("integrity") == pkg.integrity
            and (dest / pkg.check_file).is_file())


def fetch_tarball(pkg: Package) -> Path:
    """Return the cached tarball, downloading it with `npm pack` if needed; verify its sha512."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / pkg.tarball_name
    if tarball.is_file() and sri_sha512(tarball) == pkg.integrity:
        return tarball
    tarball.unlink(missing_ok=True)  # absent or corrupt: fetch again

    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            f"npm is not installed, and {pkg.spec} is not in the cache ({cache}).\n"
            "The book serves MathJax and the widget scripts itself so it renders offline; these come "
            "from the npm registry.\nInstall Node.js and npm (Debian/Ubuntu: apt-get install npm; "
            "conda: conda install nodejs) and run this again.")
    print(f"vendor_assets: npm pack {pkg.spec} -> {cache}", flush=True)
    cmd = [npm, "pack", pkg.spec, "--json", "--pack-destination", str(cache),
           "--fetch-retries=1", "--fetch-timeout=60000", "--loglevel=error"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise VendorError(f"`npm pack {pkg.spec}` took more than 10 minutes; is the npm registry "
                          "reachable from this machine?") from None
    if proc.returncode != 0 or not tarball.is_file():
        registry = subprocess.run([npm, "config", "get", "registry"], capture_output=True,
                                  text=True).stdout.strip() or "the npm registry"
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise VendorError(
            f"`npm pack {pkg.spec}` failed (exit {proc.returncode}); is {registry} reachable?\n"
            f"npm said:\n{tail}\n"
            f"Without these files the book would show raw TeX offline. Fix the network (or copy "
            f"{pkg.tarball_name} into {cache}) and run this again.")
    try:  # npm's own report; our hash of the file below is the check that counts
        reported = json.loads(proc.stdout)[0].get("integrity")
    except (ValueError, IndexError, AttributeError):
        reported = None
    actual = sri_sha512(tarball)
    if actual != pkg.integrity or reported not in (None, pkg.integrity):
        tarball.unlink(missing_ok=True)
        raise VendorError(
            f"Integrity check failed for {pkg.spec}:\n  expected {pkg.integrity}\n"
            f"  got      {actual}\n  npm said {reported}\n"
            "The downloaded tarball was deleted. Do not update the pin unless you meant to change "
            "the version (then copy the new value from `npm pack --json`).")
    return tarball


def select_members(pkg: Package, tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Map destination path (relative to the package folder) -> tar member, for what we ship."""
    files = {m.name.removeprefix("package/"): m for m in tar.getmembers()
             if m.isfile() and m.name.startswith("package/")}
    chosen = {name: m for name, m in files.items() if name in ("LICENSE", "package.json")}
    if pkg.folder == "mathjax":
        chosen.update({n: m for n, m in files.items() if n.startswith("es5/")})
    elif pkg.folder == "html-manager":
        bundle = tar.extractfile(files["dist/embed-amd.js"]).read().decode("utf-8")
        # The bundle names its webpack assets (icon fonts) as "<20 hex>.<ext>" beside itself.
        assets = set(re.findall(r'"([0-9a-f]{20}\.(?:eot|svg|ttf|woff2?))"', bundle))
        missing = [a for a in assets if f"dist/{a}" not in files]
        if missing:
            raise VendorError(f"{pkg.spec}: embed-amd.js references {missing}, not in the tarball")
        chosen["dist/embed-amd.js"] = files["dist/embed-amd.js"]
        chosen.update({f"dist/{a}": files[f"dist/{a}"] for a in assets})
    elif pkg.folder == "requirejs":
        chosen["require.js"] = files["require.js"]
    if pkg.check_file not in chosen:
        raise VendorError(f"{pkg.spec}: {pkg.check_file} is not in the tarball")
    return chosen


def extract(pkg: Package, tarball: Path) -> None:
    """Extract into a temporary folder beside the destination, then swap it in."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    dest = VENDOR_DIR / pkg.folder
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{pkg.folder}-", dir=VENDOR_DIR))
    tmp.chmod(0o755)  # mkdtemp makes it private; the site is served to others
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for rel, member in select_members(pkg, tar).items():
                target = (tmp / rel).resolve()
                if not target.is_relative_to(tmp.resolve()):
                    raise VendorError(f"{pkg.spec}: refusing to extract {member.name!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
        stamp = {"spec": pkg.spec, "integrity": pkg.integrity,
                 "made_by": "tools/vendor_assets.py; do not edit, rerun it"}
        (tmp / STAMP_NAME).write_text(json.dumps(stamp, indent=1) + "\n")
        old = None
        if dest.exists():
            old = VENDOR_DIR / f".old-{pkg.folder}-{os.getpid()}"
            dest.rename(old)
        tmp.rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="re-extract even if in place")
    args = parser.parse_args(argv)
    try:
        for pkg in PACKAGES:
            if not args.force and is_in_place(pkg):
                continue
            extract(pkg, fetch_tarball(pkg))
            print(f"vendor_assets: {pkg.spec} -> {(VENDOR_DIR / pkg.folder).relative_to(ROOT)}/")
    except VendorError as err:
        print(f"vendor_assets: ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
