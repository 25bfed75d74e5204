"""Display names of the codes the console shows (translated through the catalogues)."""

from __future__ import annotations

from .i18n import N_

SEVERITIES = ("red", "orange", "yellow")
SEVERITY = {"red": N_("Red"), "orange": N_("Orange"), "yellow": N_("Yellow"), "green": N_("Green")}

AREAS = ("labor", "subsidy", "lease", "project", "payment", "deposit")
AREA = {"labor": N_("Labour"), "subsidy": N_("Subsidies"), "lease": N_("Asset leases"),
        "project": N_("Village works"), "payment": N_("Payments"), "deposit": N_("Deposits")}

STATUS = {
    "new": N_("New"), "dispatched": N_("Dispatched"), "returned": N_("Returned"), "accepted": N_("Accepted"),
    "verifying": N_("Verifying"), "rectifying": N_("Rectifying"), "rectified": N_("Rectified"),
    "closed": N_("Closed"), "dismissal_requested": N_("Dismissal requested"), "dismissed": N_("Dismissed"),
    "clue": N_("Referred as a clue"), "monitoring": N_("Monitoring"), "no_action": N_("No action"),
}
OPEN_STATES = ("new", "dispatched", "returned", "accepted", "verifying", "rectifying", "rectified",
               "dismissal_requested", "monitoring")

ACTION = {
    "dispatch": N_("Dispatch"), "triage": N_("Triage"), "return": N_("Return as misdirected"),
    "accept": N_("Accept"), "verify": N_("Start verification"), "confirm": N_("Confirm the problem"),
    "request_dismissal": N_("Request dismissal"), "submit_rectification": N_("Report rectification done"),
    "close": N_("Close (review passed)"), "reject_rectification": N_("Reject the rectification"),
    "dismiss": N_("Approve dismissal"), "reject_dismissal": N_("Reject the dismissal"),
    "supervise": N_("Supervision notice (overdue)"), "reopen": N_("Reopened by a new scan"),
}
OUTCOME = {"clue": N_("Refer as a clue"), "monitor": N_("Keep monitoring"), "no_action": N_("No action needed")}

ROLE = {"district_officer": N_("District discipline officer"), "township_officer": N_("Township discipline officer"),
        "village_liaison": N_("Village liaison"), "auditor": N_("Auditor"), "data_steward": N_("Data steward"),
        "admin": N_("Administrator")}

LEVEL = {"city": N_("City"), "district": N_("District"), "township": N_("Township"), "village": N_("Village")}

STEP = {"accept": N_("acceptance"), "verify": N_("verification"), "rectify": N_("rectification")}

TABLE = {"labor": N_("Labour sheets"), "subsidies": N_("Subsidy payments"), "assets": N_("Collective assets"),
         "leases": N_("Leases"), "projects": N_("Village projects"), "decisions": N_("Decisions"),
         "payments": N_("Village payments"), "deposits": N_("Deposits"), "regions": N_("Regions"),
         "persons": N_("Household register"), "relations": N_("Declared relations"),
         "officials": N_("Officials"), "companies": N_("Company registry"), "shareholdings": N_("Shareholdings")}

RELATION = {"self": N_("self"), "spouse": N_("spouse"), "parent": N_("parent"), "child": N_("child"),
            "sibling": N_("sibling"), "grandparent": N_("grandparent"), "grandchild": N_("grandchild"),
            "legal_rep": N_("legal representative"), "shareholder": N_("shareholder")}

# ------------------------------------------------------------------------------------ complaints (监督一点通)
COMPLAINT_STATUS = {
    "moderation": N_("Awaiting moderation"), "rejected": N_("Rejected in moderation"),
    "received": N_("Awaiting acceptance"), "accepted": N_("Accepted (to assign)"), "assigned": N_("Being handled"),
    "reviewing": N_("Under review"), "answered": N_("Answered (awaiting rating)"),
    "re_review": N_("Re-review by the level above"), "rated": N_("Rated (finished)"),
}
#: the states in which staff still have something to do (answered waits on the filer)
COMPLAINT_OPEN = ("moderation", "received", "accepted", "assigned", "reviewing", "re_review")
COMPLAINT_ACTION = {
    "submit": N_("Filed"), "approve": N_("Pass moderation"), "reject_spam": N_("Reject as spam or abuse"),
    "accept": N_("Accept the complaint"), "decline": N_("Decline (answer with the reason)"),
    "assign": N_("Assign a handler"), "submit_result": N_("Report the handling result"),
    "send_back": N_("Send back to the handler"), "approve_answer": N_("Approve and answer"),
    "rate": N_("Rated by the filer"), "re_answer": N_("Re-review answer"), "supervise": N_("Supervision notice (overdue)"),
}
CATEGORY = {"labor": N_("Labour"), "subsidies": N_("Subsidies"), "assets": N_("Assets and resources"),
            "projects": N_("Village works"), "finance": N_("Village finances"), "other": N_("Other")}
RATING = {"satisfied": N_("Satisfied"), "basically_satisfied": N_("Basically satisfied"),
          "unsatisfied": N_("Unsatisfied")}
COMPLAINT_STEP = {"accept": N_("acceptance of the complaint"), "answer": N_("answering the complaint"),
                  "re_review": N_("re-review by the level above")}
#: why a complaint went to the moderation queue (stored in English by the complaints service, joined by "; ")
MODERATION_REASONS = (N_("hidden field filled (automated submission?)"), N_("contains a link"),
                      N_("same text as another complaint for this village"))
#: form fields named in refusals
FIELD = {"comment": N_("Comment"), "findings": N_("Findings"), "answer": N_("Answer to the filer"),
         "summary": N_("Summary"), "substantiated": N_("Substantiated")}
