"""Data contracts: one declarative schema per departmental source (docs/interfaces.md).

``CONTRACTS`` maps the inbox folder name to its contract. A contract is the single source for
the header mapping, validation and the column reference printed by ``renkou contracts``.
"""

from __future__ import annotations

from ._base import Contract
from .birth_certificate import BirthCertificate
from .death import Death
from .hukou import Hukou
from .marriage import Marriage
from .maternity_insurance import MaternityInsurance
from .population import Population
from .school import School
from .vaccination import Vaccination

CONTRACTS: dict[str, type[Contract]] = {
    c.source: c
    for c in (
        Population,
        Hukou,
        Death,
        Marriage,
        BirthCertificate,
        MaternityInsurance,
        Vaccination,
        School,
    )
}

__all__ = [
    "CONTRACTS",
    "Contract",
    "Population",
    "Hukou",
    "Death",
    "Marriage",
    "BirthCertificate",
    "MaternityInsurance",
    "Vaccination",
    "School",
]
