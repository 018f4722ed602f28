"""A toy strategy, packaged like any third-party plugin: the centre of the unit cube,
then a deterministic low-discrepancy walk (van der Corput per dimension)."""

from hpo_framework import Option, Strategy, hookimpl


def _vdc(n: int, base: int) -> float:
    q, denom = 0.0, 1.0
    while n:
        n, r = divmod(n, base)
        denom *= base
        q += r / denom
    return q


PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


class ToyStrategy(Strategy):
    """Centre first, then a Halton sequence."""

    name = "toy"
    options = {"skip": Option(0, int, low=0, help="points of the sequence to skip")}

    def ask(self, n=1):
        out = []
        for _ in range(n):
            i = self.n_asked + len(out) + self.config["skip"]
            dims = len(self.space.searchable)
            u = [0.5] * dims if i == 0 else [_vdc(i, PRIMES[d % 10]) for d in range(dims)]
            out.append(self.space.decode(u))
        return out


@hookimpl
def register_strategies(register):
    register("toy", ToyStrategy, "centre, then a Halton sequence (test plugin)")
