"""Check one ``<alert>`` element: schema, reading (with the upgrade to 1.2) and the rules."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from accord.lib.cap.codec import NS_DSIG, Version, cap_version, read_alert, to_element
from accord.lib.cap.model import Alert
from accord.lib.cap.report import Finding, finding
from accord.lib.cap.rules import check_alert
from accord.lib.cap.xsd import xsd_check


@dataclass(frozen=True, slots=True)
class AlertCheck:
    version: Version | None
    valid_xsd: bool
    findings: tuple[Finding, ...]
    alert: Alert | None
    notes: tuple[str, ...]


def _standalone(element: etree._Element) -> etree._Element:
    return element if element.getparent() is None else copy.deepcopy(element)


def _rebase(path: str, prefix: str) -> str:
    return prefix + path[len("/alert") :] if path.startswith("/alert") else path


def check_alert_element(element: etree._Element, prefix: str = "/alert") -> AlertCheck:
    """Everything the validator says about one alert element (a document root or embedded in a feed).

    * CAP 1.2: the 1.2 schema, then the rules.
    * CAP 1.1: ``valid_xsd`` stays the 1.2 verdict (False: the namespace differs); the 1.1 schema is applied
      to the document without its XML signature (CAP 1.1 allowed an enveloped signature that its schema did
      not declare), then the upgraded alert is checked against the 1.2 rules.
    * CAP 1.0: there is no bundled 1.0 schema; the upgraded alert is written as 1.2 and that is checked
      against the 1.2 schema, then the rules.
    * Another namespace (or none): CAP-NAMESPACE, then the elements are read as if they were 1.2 so the
      rules can still say something; such an alert is never returned.
    """
    root = _standalone(element)
    version = cap_version(root)
    findings: list[Finding] = []
    valid_xsd, errors_12 = xsd_check(root, "1.2", prefix)
    if version == "1.2":
        findings.extend(errors_12)
    elif version == "1.1":
        findings.append(finding("CAP-VERSION", prefix, "a CAP 1.1 document, checked after upgrading it to 1.2"))
        stripped = copy.deepcopy(root)
        for signature in stripped.findall(f"{{{NS_DSIG}}}Signature"):
            stripped.remove(signature)
        findings.extend(xsd_check(stripped, "1.1", prefix, "CAP 1.1 schema: ")[1])
    elif version == "1.0":
        findings.append(finding("CAP-VERSION", prefix, "a CAP 1.0 document, checked after upgrading it to 1.2"))
    else:
        namespace = etree.QName(root).namespace
        findings.append(
            finding(
                "CAP-NAMESPACE",
                prefix,
                f"<alert> in namespace {namespace!r} is not CAP 1.0, 1.1 or 1.2; checked as CAP 1.2"
                if namespace
                else "<alert> without a namespace is not CAP; checked as CAP 1.2",
            )
        )
    alert, _version, notes, problems = read_alert(root, fallback="1.2")
    fatal = False
    for problem in problems:
        findings.append(finding(problem.rule, _rebase(problem.path, prefix), problem.message))
        fatal = fatal or problem.fatal
    if version == "1.0" and not fatal:
        findings.extend(xsd_check(to_element(alert), "1.2", prefix, "after the upgrade to 1.2: ")[1])
    findings.extend(check_alert(alert, prefix))
    readable = version is not None and not fatal
    return AlertCheck(
        version=version,
        valid_xsd=valid_xsd,
        findings=tuple(findings),
        alert=alert if readable else None,
        notes=notes,
    )
