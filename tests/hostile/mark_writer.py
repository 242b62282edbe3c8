"""Writes review marks in a loop, the way the Review page does (inspectors.review.set_mark), and prints
each mark's number once set_mark has returned: what a user has been told is saved.

    python -m tests.hostile.mark_writer WORKSPACE PREFIX [COUNT]     # COUNT 0 = until killed
"""

import sys

from inspectors import review


def mark_for(i: int):
    decision = review.DECISIONS[i % len(review.DECISIONS)]
    return decision, (f"label{i % 7}" if decision == "relabel" else None)


def main(argv) -> int:
    workspace, prefix = argv[0], argv[1]
    count = int(argv[2]) if len(argv) > 2 else 0
    i = 0
    while not count or i < count:
        decision, new_label = mark_for(i)
        review.set_mark(workspace, f"{prefix}/{i:06d}.png", decision, new_label=new_label, note=f"{prefix} {i}")
        print(i, flush=True)  # confirmed: set_mark returned
        i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
