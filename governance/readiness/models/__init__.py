from governance.readiness.models.answer import ChecklistAnswer
from governance.readiness.models.template import (
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)

__all__ = ["ChecklistAnswer", "ChecklistItem", "ChecklistSection", "ChecklistTemplate"]
