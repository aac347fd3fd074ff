import subprocess
import sys


def test_import_taskorder_stays_light():
    code = (
        "import sys, taskorder, taskorder.cli; "
        "heavy = {'torch', 'trl', 'ray', 'ortools', 'transformers', 'matplotlib'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
