import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_platform_folder_is_not_a_python_package():
    assert (ROOT / "platform").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_standard_platform_and_uuid_import_from_repository_root():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import platform, uuid; print(platform.system(), uuid.uuid4().version)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "4"
