"""The detector registry: names to factories, so configuration can enable, disable and add detectors.

``builtin_registry()`` holds every built-in detector, each reporting only types of the catalogue
(``clearance.entities``); a plug-in registers its own factory under a new name, for types of its own. A
registry is built where it is needed (no process-wide registry), so tests and gateways never share one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clearance.detect.base import Detector
from clearance.detect.builtin.aba import AbaRoutingDetector
from clearance.detect.builtin.assignment import AssignmentDetector
from clearance.detect.builtin.aws_secret import AwsSecretKeyDetector
from clearance.detect.builtin.card import CreditCardDetector
from clearance.detect.builtin.connection_string import ConnectionStringDetector
from clearance.detect.builtin.email import EmailDetector
from clearance.detect.builtin.iban import IbanDetector
from clearance.detect.builtin.ipv4 import Ipv4Detector
from clearance.detect.builtin.ipv6 import Ipv6Detector
from clearance.detect.builtin.jwt import JwtDetector
from clearance.detect.builtin.keyword_credential import KeywordCredentialDetector
from clearance.detect.builtin.person import PersonDetector
from clearance.detect.builtin.phone import PhoneNumberDetector
from clearance.detect.builtin.private_key import PrivateKeyDetector
from clearance.detect.builtin.ssn import UsSsnDetector
from clearance.detect.builtin.tokens import TOKEN_SPECS, PrefixedTokenDetector, TokenSpec
from clearance.detect.builtin.us_bank import UsBankNumberDetector
from clearance.entities import CATALOGUE

DetectorFactory = Callable[[], Detector]


class DetectorRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    def register(self, name: str, factory: DetectorFactory) -> None:
        if name in self._factories:
            raise ValueError(f"a detector named {name!r} is already registered: choose another name")
        self._factories[name] = factory

    def names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def create(self, name: str) -> Detector:
        try:
            factory = self._factories[name]
        except KeyError:
            known = ", ".join(self._factories)
            raise KeyError(f"no detector named {name!r}; known detectors: {known}") from None
        detector = factory()
        if detector.name != name:
            raise ValueError(f"the factory registered as {name!r} built a detector named {detector.name!r}")
        return detector

    def create_all(self, exclude: Iterable[str] = ()) -> list[Detector]:
        skip = set(exclude)
        return [self.create(name) for name in self._factories if name not in skip]


def _token_factory(spec: TokenSpec) -> DetectorFactory:
    return lambda: PrefixedTokenDetector(spec)


def _catalogued(factory: DetectorFactory) -> DetectorFactory:
    """The factory of a built-in detector, which may report only types of the catalogue (``clearance.entities``):
    what a type is (its level, its operator, whether streams hold it whole) is read from there."""

    def create() -> Detector:
        detector = factory()
        unknown = sorted(detector.types - CATALOGUE.keys())
        if unknown:
            raise ValueError(f"built-in detector {detector.name!r} reports {', '.join(unknown)}, not in the catalogue")
        return detector

    return create


# Names are spelled out rather than read from the classes: compiled (mypyc) detector classes hold ``name`` per
# instance, so the class itself has none to read. ``create`` checks that each factory builds the name it is
# registered under.
_BUILTIN: tuple[tuple[str, DetectorFactory], ...] = (
    ("private_key", PrivateKeyDetector),
    ("jwt", JwtDetector),
    ("connection_string", ConnectionStringDetector),
    ("email", EmailDetector),
    ("iban", IbanDetector),
    ("credit_card", CreditCardDetector),
    ("us_ssn", UsSsnDetector),
    ("aba_routing", AbaRoutingDetector),
    ("us_bank", UsBankNumberDetector),
    ("phone", PhoneNumberDetector),
    ("ipv4", Ipv4Detector),
    ("ipv6", Ipv6Detector),
    ("aws_secret_key", AwsSecretKeyDetector),
    ("assignment", AssignmentDetector),
    ("person", PersonDetector),
    ("keyword_credential", KeywordCredentialDetector),
)


def builtin_registry() -> DetectorRegistry:
    """A new registry holding every built-in detector, cheapest and most specific first."""
    registry = DetectorRegistry()
    for name, factory in _BUILTIN:
        registry.register(name, _catalogued(factory))
    for spec in TOKEN_SPECS:
        registry.register(spec.name, _catalogued(_token_factory(spec)))
    return registry
