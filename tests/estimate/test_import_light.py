import subprocess
import sys


def test_estimate_package_and_cli_stay_light():
    code = (
        "import sys, taskorder.estimate, taskorder.solvers.multiplicative, taskorder.cli.probe_cmd; "
        "heavy = {'torch', 'trl', 'ray', 'ortools', 'transformers'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
