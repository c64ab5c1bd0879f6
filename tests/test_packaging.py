"""The packaging files agree with each other.

- environment.yml (conda) lists the same dependencies, with the same version ranges, as
  pyproject.toml (the library's dependencies plus the ``book`` extra);
- requirements.txt pins every one of them, to a version inside pyproject's range;
- the book has a single table of contents: book/_toc.yml is a link to the top-level _toc.yml,
  and every page it lists exists (and every notebook in book/ is listed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project runs on 3.11; tomli is only needed on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PROJECT_NAME = "pixelcnn-calligraphy"


# ----------------------------------------------------------------------------------------------
# Helpers


def requirement_map(lines) -> dict[str, SpecifierSet]:
    """Map canonical package name -> version specifier, from PEP 508 requirement strings.

    Raises ValueError on a name listed twice, so that a duplicate cannot hide a difference.
    """
    result: dict[str, SpecifierSet] = {}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name in result:
            raise ValueError(f"{req.name} is listed twice")
        result[name] = req.specifier
    return result


def compare_requirements(a: dict[str, SpecifierSet], b: dict[str, SpecifierSet],
                         a_name: str = "a", b_name: str = "b") -> list[str]:
    """Every difference between two requirement maps, both ways; empty when they agree."""
    problems = []
    for name in sorted(a.keys() - b.keys()):
        problems.append(f"{name} is in {a_name} but not in {b_name}")
    for name in sorted(b.keys() - a.keys()):
        problems.append(f"{name} is in {b_name} but not in {a_name}")
    for name in sorted(a.keys() & b.keys()):
        if a[name] != b[name]:
            problems.append(f"{name}: {a_name} says {str(a[name]) or 'any version'!r}, "
                            f"{b_name} says {str(b[name]) or 'any version'!r}")
    return problems


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pyproject_requirements() -> dict[str, SpecifierSet]:
    """The library's dependencies plus the ``book`` extra: everything `make` installs."""
    project = pyproject()["project"]
    return requirement_map(project["dependencies"] + project["optional-dependencies"]["book"])


def environment_pip_entries() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml should have exactly one pip: section"
    return pip_sections[0]


def pinned_requirements() -> dict[str, str]:
    """requirements.txt as canonical name -> pinned version."""
    pins: dict[str, str] = {}
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"requirements.txt should only hold pins, found {raw!r}"
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not an exact pin: {raw!r}"
        name = canonicalize_name(req.name)
        assert name not in pins, f"{req.name} is pinned twice in requirements.txt"
        pins[name] = specs[0].version
    return pins


def toc_files(entry) -> list[str]:
    """Every `file:` and `root:` in a (jb-book) table of contents, in order."""
    found = []
    if isinstance(entry, dict):
        for key in ("root", "file"):
            if key in entry:
                found.append(entry[key])
        for value in entry.values():
            if isinstance(value, (list, dict)):
                found.extend(toc_files(value))
    elif isinstance(entry, list):
        for item in entry:
            found.extend(toc_files(item))
    return found


# ----------------------------------------------------------------------------------------------
# The comparison helper itself: it must notice drift in either direction.


def test_compare_requirements_finds_drift_both_ways():
    base = requirement_map(["numpy>=2.0", "tqdm>=4.66"])
    assert compare_requirements(base, requirement_map(["tqdm>=4.66", "NumPy>=2.0"])) == []

    added = requirement_map(["numpy>=2.0", "tqdm>=4.66", "scipy>=1.13"])
    assert compare_requirements(base, added) == ["scipy is in b but not in a"]
    assert compare_requirements(added, base) == ["scipy is in a but not in b"]

    changed = requirement_map(["numpy>=2.1", "tqdm>=4.66"])
    assert len(compare_requirements(base, changed)) == 1
    assert len(compare_requirements(base, requirement_map(["numpy", "tqdm>=4.66"]))) == 1


def test_requirement_map_rejects_duplicates():
    with pytest.raises(ValueError):
        requirement_map(["numpy>=2.0", "NumPy>=2.1"])


# ----------------------------------------------------------------------------------------------
# The real files


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "pixelcnn-calligraphy"
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
    assert "pip" in env["dependencies"]

    entries = environment_pip_entries()
    assert "-e ." in entries, "environment.yml should install the project itself with `-e .`"
    from_env = requirement_map(e for e in entries if not e.startswith("-"))
    problems = compare_requirements(pyproject_requirements(), from_env,
                                    "pyproject.toml", "environment.yml")
    assert not problems, "\n".join(problems)


def test_requirements_txt_pins_every_dependency_within_range():
    pins = pinned_requirements()
    assert PROJECT_NAME not in pins, "requirements.txt must not pin the project itself"
    problems = []
    for name, spec in pyproject_requirements().items():
        if name not in pins:
            problems.append(f"{name} is a dependency in pyproject.toml but not pinned in requirements.txt")
        elif not spec.contains(pins[name], prereleases=True):
            problems.append(f"{name}=={pins[name]} in requirements.txt is outside pyproject's {spec}")
    assert not problems, "\n".join(problems)


def test_book_toc_is_the_top_level_toc():
    link = BOOK / "_toc.yml"
    assert link.is_symlink(), (
        "book/_toc.yml should be a symlink to ../_toc.yml (on Windows, clone with "
        "`git -c core.symlinks=true clone ...`)")
    assert os.readlink(link) == "../_toc.yml", "the link should be relative, so clones keep working"
    assert link.resolve() == (ROOT / "_toc.yml").resolve()


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["format"] == "jb-book"
    assert toc["root"] == "intro"

    entries = toc_files(toc)
    assert len(entries) == len(set(entries)), f"a page is listed twice: {entries}"
    missing = [e for e in entries
               if not any((BOOK / e).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists pages that do not exist in book/: {missing}"

    # With only_build_toc_files, a notebook left out of the ToC would be checked by nbval but
    # silently missing from the site.
    notebooks = sorted(p.stem for p in BOOK.glob("*.ipynb"))
    unlisted = [n for n in notebooks if n not in entries]
    assert not unlisted, f"notebooks in book/ that _toc.yml does not list: {unlisted}"


def test_book_config_builds_from_stored_outputs():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "off", (
        "the book shows the stored outputs; nbval (make test) is what re-runs the notebooks")
    assert config["only_build_toc_files"] is True


def test_notebook_environment_matches_makefile():
    """book/conftest.py sets the same environment for nbval as the Makefile exports."""
    import importlib.util
    import re

    spec = importlib.util.spec_from_file_location("book_conftest", BOOK / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    makefile = (ROOT / "Makefile").read_text()
    exported = dict(re.findall(r"^export (\w+) := (\S+)$", makefile, re.M))
    assert exported.pop("MPLBACKEND") == "Agg"  # for the library tests; kernels draw inline
    for name in ("JUPYTER_PREFER_ENV_PATH", "PIP_DISABLE_PIP_VERSION_CHECK", "PATH"):
        exported.pop(name, None)
    assert exported == module.NOTEBOOK_ENVIRONMENT
    kernel_backend = re.search(r"^KERNEL_MPLBACKEND := (\S+)$", makefile, re.M).group(1)
    assert kernel_backend == module.KERNEL_MPLBACKEND
    assert re.search(r"^test-notebooks notebooks: export MPLBACKEND := \$\(KERNEL_MPLBACKEND\)$", makefile, re.M)
