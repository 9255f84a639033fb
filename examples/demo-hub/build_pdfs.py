"""Build the demo hub's guidance PDFs from the text in this script (fpdf2, core fonts only).

Run from anywhere:  .venv/bin/python examples/demo-hub/build_pdfs.py [--out DIR]

Each document is a list of blocks: ("h1", text) and ("h2", text) are headings (recorded in
the PDF outline with start_section and drawn as bold lines), ("p", text) is a paragraph and
("page",) forces a page break. The output is deterministic (fixed creation date, content-
derived file id), so rebuilding leaves the committed PDFs byte-for-byte unchanged.

All text is demonstration content written for Hubsearch; it is not official guidance.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
SITE = HERE.parent.parent / "hubsearch" / "demo_hub" / "site"
CREATED = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
NOTICE = "Demonstration content for Hubsearch - not official guidance."

Block = tuple[str, ...]

CHILD_TRAFFICKING: list[Block] = [
    ("h1", "About this guidance"),
    (
        "p",
        "This guidance supports practitioners in Wales who work with children and young "
        "people and who may meet a child who has been moved, held or used by others for "
        "profit. It sits alongside the Wales Safeguarding Procedures and does not replace "
        "them. Where the two appear to differ, follow the procedures and seek advice from "
        "your designated safeguarding lead.",
    ),
    (
        "p",
        "The guidance is written for social workers, police officers, teachers, health "
        "staff, youth workers and staff in the voluntary sector. It assumes no specialist "
        "knowledge of trafficking law. Each section can be read on its own.",
    ),
    ("h1", "What child trafficking is"),
    (
        "p",
        "A child is trafficked when someone arranges or helps their travel with a view to "
        "exploiting them. The travel can be across an international border, between towns "
        "in Wales, or even from one street to the next. Unlike trafficking of adults, no "
        "threat, force or deception has to be shown: a child cannot give meaningful "
        "agreement to their own exploitation, so their apparent willingness never makes it "
        "acceptable.",
    ),
    (
        "p",
        "Exploitation takes many forms. Children are used for sexual abuse, for selling "
        "drugs along county lines, for shoplifting and begging, for cannabis cultivation, "
        "for unpaid domestic work, and for benefit fraud. Many children experience more than "
        "one form, and many are British nationals who have never left the United Kingdom.",
    ),
    ("page",),
    ("h1", "Recognising a child who may have been trafficked"),
    (
        "p",
        "No single sign proves that a child has been trafficked, and children rarely "
        "describe themselves as victims. Practitioners should look at the whole picture, "
        "record what they see and hear, and share concerns early rather than wait for "
        "certainty.",
    ),
    ("h2", "Indicators in the child's circumstances"),
    (
        "p",
        "Be curious when a child has no documents or someone else holds them, when the "
        "adult accompanying them cannot explain the relationship, or when the child's "
        "account of their journey seems rehearsed. Frequent going missing, unexplained "
        "travel tickets, several mobile phones, sudden new possessions and contact with "
        "older adults who are not family are all reasons to ask more questions.",
    ),
    ("h2", "Indicators in behaviour and health"),
    (
        "p",
        "A child who is being exploited may be withdrawn, fearful of authority, or "
        "unusually loyal to an adult who controls them. Look for untreated injuries, "
        "sexually transmitted infections, pregnancy, substance misuse, tiredness from "
        "night-time work and a sudden fall in school attendance. Fear of deportation or "
        "of punishment for crimes they were made to commit often keeps children silent.",
    ),
    ("page",),
    ("h1", "The National Referral Mechanism"),
    (
        "p",
        "The National Referral Mechanism is the framework used across the United Kingdom to "
        "identify people who may be victims of modern slavery or human trafficking and to "
        "make sure they are offered protection and support. A referral can only be made by a "
        "first responder organisation, such as a local authority, the police, the Home "
        "Office or certain named charities. Other practitioners should pass their concerns "
        "to a first responder without delay.",
    ),
    (
        "p",
        "For a child, consent is not needed before a referral into the National Referral "
        "Mechanism, although the child should be told what is happening in a way they can "
        "understand. In Wales the referral goes to the Single Competent Authority in the "
        "Home Office, which makes the decisions. Referral is an addition to, never a "
        "substitute for, a child protection referral to the local authority: the child's "
        "safety plan must not wait for the outcome of the National Referral Mechanism.",
    ),
    ("h2", "Reasonable grounds and conclusive grounds decisions"),
    (
        "p",
        "The first decision asks whether there are reasonable grounds to believe the child "
        "may be a victim. A positive decision opens a recovery period during which the "
        "person cannot be removed from the UK. A later conclusive grounds decision is made "
        "on the balance of probabilities once more information has been gathered. Keep "
        "sharing new information with the decision makers, because a fuller picture "
        "usually leads to a better decision.",
    ),
    ("page",),
    ("h1", "Independent Child Trafficking Guardians"),
    (
        "p",
        "Every local authority area in Wales can refer a child to the Independent Child "
        "Trafficking Guardian service. A guardian is an independent source of advice who "
        "speaks up for the child, explains legal and care processes, and helps "
        "professionals understand how exploitation has shaped the child's behaviour. Refer "
        "as soon as trafficking is suspected; the guardian does not replace the social "
        "worker.",
    ),
    ("h1", "Safety planning and missing episodes"),
    (
        "p",
        "Children who have been trafficked are at high risk of going missing within the "
        "first days of being placed, often because their exploiters have told them to call "
        "a number or return to an address. Agree a safety plan before the placement starts, "
        "hold the child's phone numbers and photographs securely, brief carers about who "
        "may try to make contact, and complete a return interview after every missing "
        "episode.",
    ),
    ("h2", "When age is disputed"),
    (
        "p",
        "If there is doubt about whether a young person is under 18, treat them as a child "
        "until an age assessment has been completed. Assessments should be carried out by "
        "trained social workers, must not rely on appearance alone, and should never delay "
        "protective action.",
    ),
    ("page",),
    ("h1", "Information sharing and records"),
    (
        "p",
        "Data protection law allows, and often requires, professionals to share "
        "information to protect a child. Record the facts you observed, the words the child "
        "used, who you shared information with and why. Good records help the police to "
        "build a case against exploiters and help decision makers to recognise the child as "
        "a victim rather than an offender.",
    ),
    ("h1", "Further help"),
    (
        "p",
        "Speak to your organisation's safeguarding lead, the local authority's children's "
        "services duty team, or the police in an emergency. Regional safeguarding boards "
        "publish local contacts and training.",
    ),
]

SUPPORT_HANDBOOK: list[Block] = [
    ("h1", "Purpose of this handbook"),
    (
        "p",
        "This handbook is for support workers who help adults recovering from modern "
        "slavery in Wales, whether in safe houses, outreach services or housing projects. "
        "It covers the practical side of the work: the first meeting, arranging help with "
        "health, money and legal advice, and planning a safe move into independent life.",
    ),
    (
        "p",
        "It does not explain how people are formally identified as victims; your service "
        "lead can explain the referral route. Instead it concentrates on what happens day to "
        "day once someone is in your care.",
    ),
    ("h1", "First contact and building trust"),
    (
        "p",
        "People leaving exploitation have usually been lied to by those who controlled "
        "them, so trust is earned slowly. Introduce yourself plainly, explain what your "
        "service can and cannot do, and never promise outcomes you cannot guarantee, such "
        "as the right to stay in the country. Offer choices wherever possible, even small "
        "ones like where to sit or when to meet, because control has been taken from them "
        "for a long time.",
    ),
    ("h2", "Working with interpreters"),
    (
        "p",
        "Always use a professional interpreter, booked through your service, rather than a "
        "friend, relative or fellow resident. Check that the person is comfortable with the "
        "interpreter's gender and dialect, and be aware that some exploiters come from the "
        "same community. Telephone interpreting can feel safer for the client than someone "
        "in the room.",
    ),
    ("page",),
    ("h1", "Practical support in the first weeks"),
    ("h2", "Health"),
    (
        "p",
        "Help the client to register with a GP and a dentist as soon as they are settled. "
        "Many will have untreated injuries, dental pain or long-term conditions. Explain "
        "that NHS Wales treatment does not depend on immigration status for most services "
        "and that health staff will not pass information to their former exploiters.",
    ),
    ("h2", "Money and identity documents"),
    (
        "p",
        "Clients often arrive with no bank account, no documents and debts that the "
        "exploiters invented. Support them to open a basic bank account, to apply for the "
        "subsistence payments they are entitled to, and to obtain replacement identity "
        "papers. Keep copies of documents only with consent and store them securely.",
    ),
    ("h2", "Legal advice"),
    (
        "p",
        "Every client should be offered independent immigration and criminal legal advice. "
        "Legal aid may be available. Never give immigration advice yourself unless you are "
        "regulated to do so: well-meant but wrong information can cause lasting harm.",
    ),
    ("page",),
    ("h1", "Trauma-informed practice"),
    (
        "p",
        "Trauma affects memory, sleep, concentration and the ability to trust. A client who "
        "misses appointments or gives a different account on a second telling is not "
        "necessarily being dishonest. Keep routines predictable, give information in small "
        "pieces and in writing, and notice triggers such as locked doors, raised voices or "
        "uniforms. Refer to specialist psychological services when the client is ready.",
    ),
    ("h2", "Risk of re-trafficking"),
    (
        "p",
        "The weeks after leaving a support service are the time of greatest risk. Watch "
        "for new contacts offering work or accommodation, requests to borrow money, and "
        "sudden unexplained absences. Agree with the client what you will do if you are "
        "worried, and share concerns with the police where there is a risk of harm.",
    ),
    ("page",),
    ("h1", "Moving on from support"),
    (
        "p",
        "Planning to leave begins on the first day. Work with the client on housing "
        "applications, English or Welsh language classes, volunteering and employment "
        "support. Introduce them to community groups before support ends so that they are "
        "not suddenly isolated.",
    ),
    ("h1", "Looking after yourself"),
    (
        "p",
        "Hearing accounts of cruelty takes a toll. Use supervision, keep to your working "
        "hours and talk to your manager if a case is affecting you. Recording your work "
        "promptly and factually protects both you and the people you support.",
    ),
]

EMERGENCY_DEPARTMENT: list[Block] = [
    ("h1", "Why the emergency department matters"),
    (
        "p",
        "For many people under the control of others, a hospital emergency department is "
        "the only place they meet a professional without an exploiter being able to stop "
        "them. Injuries from unsafe work, assaults, infections and self-harm bring them to "
        "you. A few minutes of attentive questioning by a nurse or doctor can be the first "
        "step to safety.",
    ),
    ("h1", "Signs at triage and during assessment"),
    (
        "p",
        "Be alert when a companion answers every question for the patient, insists on "
        "staying in the cubicle, or holds the patient's passport and phone. Other signs "
        "include a delay in seeking care, an injury that does not fit the explanation, "
        "signs of malnutrition or exhaustion, tattoos or branding that suggest ownership, "
        "and a patient who does not know the address where they live or work.",
    ),
    ("page",),
    ("h1", "Speaking with the patient alone"),
    (
        "p",
        "Find a reason to see the patient on their own, for example for an examination or "
        "an X-ray. Use a professional interpreter by telephone, never the companion. Ask "
        "simple, open questions: whether they can come and go as they wish, whether they "
        "are paid, whether anyone has threatened them or their family. Reassure them that "
        "your first concern is their health and safety.",
    ),
    ("h2", "If the patient is a child"),
    (
        "p",
        "Any concern that a child is being exploited is a safeguarding concern. Follow the "
        "hospital's child protection procedures, inform the named nurse or doctor for "
        "safeguarding, and report to the local authority. Do not allow the child to leave "
        "with an adult you are worried about while concerns are being considered.",
    ),
    ("page",),
    ("h1", "What to do if you suspect exploitation"),
    (
        "p",
        "If anyone is in immediate danger, call the police on 999. Otherwise, discuss the "
        "case with your hospital safeguarding team during the same shift. They will help "
        "you decide whether a report to the local authority under the adult or child "
        "safeguarding procedures is needed and will contact the agencies that can make "
        "formal referrals. Do not confront the companion or try to investigate yourself.",
    ),
    ("h2", "Documentation"),
    (
        "p",
        "Write down what the patient said in their own words, who accompanied them, any "
        "injuries with body maps or photographs where policy allows, and the names of "
        "everyone you informed. Note the interpreter's identification number. Clear records "
        "may later support the patient's recognition as a victim and any prosecution.",
    ),
    ("h1", "Discharge planning"),
    (
        "p",
        "Before discharge, check whether the patient feels safe to return to where they "
        "came from. Offer a way to seek help again, such as a discreet leaflet or a number "
        "saved under an innocent name, and agree follow-up with primary care or the "
        "safeguarding team.",
    ),
]

DOCUMENTS: dict[str, tuple[str, str, list[Block]]] = {
    "external/gov-wales/safeguarding-children-trafficked-practice-guidance.pdf": (
        "Safeguarding children who may have been trafficked: practice guidance",
        "Welsh Government (demo)",
        CHILD_TRAFFICKING,
    ),
    "external/gov-wales/modern-slavery-support-workers-handbook.pdf": (
        "Modern slavery: an operational handbook for support workers",
        "Welsh Government (demo)",
        SUPPORT_HANDBOOK,
    ),
    "external/nhs-wales/emergency-department-exploitation-guide.pdf": (
        "Identifying and supporting victims of exploitation: a guide for emergency "
        "department staff",
        "NHS Wales (demo)",
        EMERGENCY_DEPARTMENT,
    ),
}


class GuidancePDF(FPDF):
    """A4 page with a running header (short title) and footer (notice, page x of y)."""

    short_title = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.short_title, new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{NOTICE}   Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def build(title: str, author: str, blocks: list[Block]) -> bytes:
    for block in blocks:
        for text in block[1:]:
            text.encode("latin-1")  # core Helvetica only covers latin-1
    pdf = GuidancePDF(format="A4")
    pdf.short_title = title
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_subject("Safeguarding guidance (Hubsearch demo hub)")
    pdf.set_creator("examples/demo-hub/build_pdfs.py")
    pdf.set_lang("en-GB")
    pdf.set_creation_date(CREATED)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 8, f"{author}, March 2024. {NOTICE}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for block in blocks:
        kind = block[0]
        if kind == "page":
            pdf.add_page()
        elif kind in ("h1", "h2"):
            level, size = (0, 14) if kind == "h1" else (1, 12)
            if pdf.will_page_break(30):
                pdf.add_page()
            pdf.ln(3)
            pdf.start_section(block[1], level=level)
            pdf.set_font("Helvetica", "B", size)
            pdf.multi_cell(0, 7, block[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "p":
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, block[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return bytes(pdf.output())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SITE, help="site root to write into")
    args = parser.parse_args(argv)
    for rel, (title, author, blocks) in DOCUMENTS.items():
        target = args.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = build(title, author, blocks)
        target.write_bytes(data)
        print(f"{target} ({len(data) // 1024} KB)")


if __name__ == "__main__":
    main()
