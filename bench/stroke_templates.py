"""How people write each digit: several allographs per class, as pen strokes in a unit box.

Each allograph is a function of a writer's `Shape` (how far loops stay open, how long flags
are) returning strokes; a stroke is a list of pieces, ("s", points) drawn as a smooth curve
through the points or ("l", points) as straight lines between them, each piece starting where
the previous one ended. x runs right, y runs down, both about 0..1 (x is later scaled by the
writer's aspect). Written from how digits are drawn, not from any dataset's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Shape:
    gap: float  # share of a loop left open (negative: the loop overlaps itself)
    flag: float  # length of a 1's flag, a 7's hook, a 5's bar, about 0..1
    bend: float  # -1..1: how far straight strokes curve
    loop: float  # height of the loop of a 6 or 9, share of the digit's height, about 0.3..0.6
    bar: float  # height of a 4's crossbar, share of the digit's height, about 0.5..0.75


def arc(cx, cy, rx, ry, start, stop, n=None):
    """Points on an ellipse from angle `start` to `stop` (degrees; 0 = right, -90 = top, so
    decreasing angles run anticlockwise on screen)."""
    n = n or max(int(abs(stop - start) / 20) + 2, 3)
    t = np.radians(np.linspace(start, stop, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def loop_end(start, s: Shape, turns=-360.0):
    """The end angle of a loop that starts at `start` and closes short by `s.gap`."""
    return start + turns * (1 - s.gap)


def zero_oval(s):
    return [[("s", arc(0.5, 0.5, 0.5, 0.5, -100, loop_end(-100, s)))]]


def zero_clockwise(s):
    return [[("s", arc(0.5, 0.5, 0.5, 0.5, -60, loop_end(-60, s, 360)))]]


def one_plain(s):
    return [[("s", [(0.5 + 0.05 * s.bend, 0.0), (0.5, 1.0)])]]


def one_flag(s):
    return [[("l", [(0.5 - 0.45 * s.flag, 0.1 + 0.25 * s.flag), (0.5, 0.0), (0.5, 1.0)])]]


def one_flag_foot(s):
    return one_flag(s) + [[("l", [(0.5 - 0.35 * s.flag - 0.1, 1.0), (0.5 + 0.35 * s.flag + 0.1, 1.0)])]]


def two_curved(s):
    return [[("s", [(0.05, 0.28), (0.3, 0.02), (0.72, 0.0), (0.95, 0.25), (0.75, 0.55 + 0.05 * s.bend),
                    (0.0, 1.0)]), ("l", [(1.0, 0.98)])]]


def two_curl(s):
    return [[("s", [(0.05, 0.3), (0.4, 0.0), (0.9, 0.15), (0.75, 0.5), (0.2, 0.92), (0.08, 0.84),
                    (0.28, 0.8), (0.6, 0.98), (1.0, 0.94)])]]


def three_round(s):
    return [[("s", [(0.05, 0.15), (0.5, 0.0), (0.9, 0.2), (0.45, 0.48)]),
             ("s", [(0.95, 0.72), (0.55, 1.0), (0.0, 0.85)])]]


def three_flat(s):
    return [[("l", [(0.05, 0.0), (0.95, 0.0), (0.4, 0.42)]),
             ("s", [(0.95, 0.68), (0.5, 1.0), (0.0, 0.85)])]]


def four_closed(s):
    return [[("l", [(0.68, 0.0), (0.0, s.bar), (1.0, s.bar)])], [("l", [(0.68, 0.0), (0.68, 1.0)])]]


def four_open(s):
    return [[("l", [(0.08 + 0.12 * s.bend, 0.0), (0.02, s.bar), (1.0, s.bar)])],
            [("l", [(0.72, 0.05 + 0.2 * s.flag), (0.72, 1.0)])]]


def four_open_tall(s):
    return [[("l", [(0.25, 0.05), (0.0, s.bar - 0.05), (0.95, s.bar - 0.05)])],
            [("l", [(0.75, 0.0), (0.7, 1.0)])]]


def five_two_strokes(s):
    return [[("l", [(0.15, 0.02), (0.1, 0.45)]),
             ("s", [(0.5, 0.36), (0.92, 0.62), (0.6, 0.98), (0.05, 0.88)])],
            [("l", [(0.15, 0.02), (0.15 + 0.75 * (0.5 + 0.5 * s.flag), 0.0)])]]


def five_one_stroke(s):
    return [[("l", [(0.15 + 0.75 * (0.5 + 0.5 * s.flag), 0.0), (0.15, 0.0), (0.1, 0.45)]),
             ("s", [(0.55, 0.38), (0.95, 0.65), (0.55, 1.0), (0.0, 0.85)])]]


def six_round(s):
    loop = arc(0.5, 1 - s.loop / 2, 0.4, s.loop / 2, 180, loop_end(180, s, 360))
    return [[("s", [(0.85, 0.03), (0.4, 0.1), (0.1, 0.5), *loop])]]


def six_straight(s):
    loop = arc(0.5, 1 - s.loop / 2, 0.4, s.loop / 2, 180, loop_end(180, s, 360))
    return [[("l", [(0.65, 0.0), (0.1, 1 - s.loop / 2)]), ("s", loop[1:])]]


def seven_plain(s):
    return [[("l", [(0.0, 0.02), (1.0, 0.0)]), ("s", [(0.6 + 0.1 * s.bend, 0.5), (0.35, 1.0)])]]


def seven_bar(s):
    return seven_plain(s) + [[("l", [(0.25, 0.52), (0.9, 0.5)])]]


def seven_hook(s):
    return [[("l", [(0.0, 0.1 + 0.2 * s.flag), (0.05, 0.0), (1.0, 0.02), (0.4, 1.0)])]]


def eight_one_stroke(s):
    close = 0.5 + 0.35 * s.gap
    return [[("s", [(0.85, 0.12), (0.5, 0.0), (0.15, 0.15), (0.25, 0.38), (0.75, 0.6), (0.9, 0.85),
                    (0.5, 1.0), (0.1, 0.85), (0.25, 0.6), (0.75, 0.38), (0.85, 0.15), (close, 0.0)])]]


def eight_two_loops(s):
    s = replace(s, gap=s.gap / 2)  # wider open, two loops read as a 3
    return [[("s", arc(0.5, 0.24, 0.34, 0.24, 90, loop_end(90, s)))],
            [("s", arc(0.5, 0.72, 0.45, 0.28, -90, loop_end(-90, s, 360)))]]


def nine_round(s):
    loop = arc(0.45, s.loop / 2, 0.42, s.loop / 2, 5, loop_end(5, s))
    return [[("s", loop), ("l", [(0.85 + 0.08 * s.bend, 1.0)])]]


def nine_open(s):
    return [[("s", arc(0.45, s.loop / 2, 0.42, s.loop / 2, -15, -250 - 60 * (1 - s.gap)))],
            [("l", [(0.88, 0.02), (0.85 + 0.05 * s.bend, 1.0)])]]


def nine_angular(s):
    return [[("l", [(0.9, 0.05), (0.12, 0.08), (0.15 + 0.2 * s.gap, s.loop), (0.88, s.loop - 0.1),
                    (0.85, 1.0)])]]


def nine_curved_tail(s):
    loop = arc(0.45, s.loop / 2, 0.42, s.loop / 2, 5, loop_end(5, s))
    return [[("s", loop), ("s", [(0.86, 0.7), (0.55, 1.0), (0.15, 0.92)])]]


ALLOGRAPHS = {
    0: (zero_oval, zero_clockwise),
    1: (one_plain, one_flag, one_flag_foot),
    2: (two_curved, two_curl),
    3: (three_round, three_flat),
    4: (four_closed, four_open, four_open_tall),
    5: (five_two_strokes, five_one_stroke),
    6: (six_round, six_straight),
    7: (seven_plain, seven_bar, seven_hook),
    8: (eight_one_stroke, eight_two_loops),
    9: (nine_round, nine_open, nine_angular, nine_curved_tail),
}
