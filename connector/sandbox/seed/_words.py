"""Word lists and picklists the generator draws from; modest in size so generation stays fast and exact."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words (keeps long lists readable in a few lines)."""
    return tuple(text.split())


_FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie Ronald Rebecca Jason Laura Edward Sharon Jeffrey Cynthia Ryan Kathleen Jacob "
    "Amy Gary Angela Nicholas Shirley Eric Anna Jonathan Brenda Stephen Pamela Larry Emma Justin Nicole Scott Helen "
    "Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Frank Carolyn Patrick "
    "Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Jose Victoria Adam Ruth "
    "Nathan Virginia Henry Lauren Zachary Kelly Lukas Sophie Maximilian Hannah Felix Lea Jonas Mia Leon Lena Pierre "
    "Camille Hugo Chloe Louis Manon Priya Arjun Ananya Rohan Wei Mei Hiroshi Yuki Carlos Lucia Mateo Sofia Liam "
    "Noah Aoife Siobhan Søren Zoë José Renée Björn Ólafur "
)

_LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz "
    "Hoffmann Dubois Moreau Laurent Lefèvre Rossi Russo Ferrari Bianchi Sharma Singh Gupta Chen Wang Zhang Tanaka "
    "Suzuki Sato O'Brien O'Connor McCarthy Jansen Kowalski Nowak Novák Andersson Johansson Nielsen "
)
FIRST_NAMES = _FIRST_NAMES
LAST_NAMES = (*_LAST_NAMES, "van der Berg", "De Vries")

COMPANY_HEADS = _words(
    "Acme Apex Atlas Aurora Beacon Blue Bright Cascade Cedar Summit Cobalt Crimson Crystal Delta Eagle Echo Ember "
    "Evergreen Falcon Fusion Global Golden Granite Harbor Horizon Iron Jade Keystone Lakeside Liberty Lumen Maple "
    "Meridian Midwest Nimbus North Northwind Nova Oak Omega Orbit Pacific Peak Pine Pioneer Polar Prime Quantum "
    "Radiant Red Redwood Ridge River Rocky Sapphire Silver Sky Solar Spring Sterling Stone Sun Swift Terra Titan "
    "Trident True Union Valley Vanguard Vertex Vista Wave West Willow Zenith "
)
COMPANY_TAILS = _words(
    "Analytics Bay Bridge Capital Cloud Data Dynamics Energy Engineering Foods Forge Freight Health Labs Logistics "
    "Machines Media Medical Metrics Mobility Networks Path Pharma Point Power Retail Robotics Security Signal "
    "Software Source Stack Steel Supply Systems Textiles Ventures Vision Works Yard Apparel Bank Insurance Hotels "
    "Motors Farms Brewing Chemicals Learning Builders Telecom Transit Outfitters Studios Partners Foundry Mills "
    "Grid Harvest Hub Key Link Mark Mind "
)
# suffix, top-level domain: one distinct TLD per suffix keeps generated domains unique
COMPANY_SUFFIXES = (
    ("", ".com"),
    ("Inc.", ".net"),
    ("LLC", ".co"),
    ("Group", ".group"),
    ("GmbH", ".de"),
    ("Ltd", ".co.uk"),
    ("Corp.", ".biz"),
    ("AG", ".ch"),
    ("S.A.", ".fr"),
    ("B.V.", ".nl"),
    ("Pty Ltd", ".com.au"),
    ("Co.", ".io"),
)

PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de", "proton.me")

# (title, department)
TITLES = (
    ("CEO", "Executive"),
    ("CFO", "Finance"),
    ("CTO", "Engineering"),
    ("COO", "Operations"),
    ("VP of Sales", "Sales"),
    ("VP Marketing", "Marketing"),
    ("VP Engineering", "Engineering"),
    ("Head of Growth", "Marketing"),
    ("Marketing Manager", "Marketing"),
    ("Marketing Director", "Marketing"),
    ("Demand Generation Manager", "Marketing"),
    ("Content Strategist", "Marketing"),
    ("Sales Manager", "Sales"),
    ("Account Executive", "Sales"),
    ("Sales Director", "Sales"),
    ("Business Development Representative", "Sales"),
    ("Software Engineer", "Engineering"),
    ("Senior Software Engineer", "Engineering"),
    ("Engineering Manager", "Engineering"),
    ("IT Manager", "IT"),
    ("IT Director", "IT"),
    ("Systems Administrator", "IT"),
    ("Procurement Manager", "Procurement"),
    ("Purchasing Agent", "Procurement"),
    ("Operations Manager", "Operations"),
    ("Office Manager", "Operations"),
    ("Controller", "Finance"),
    ("Finance Manager", "Finance"),
    ("HR Manager", "Human Resources"),
    ("Recruiter", "Human Resources"),
    ("Product Manager", "Product"),
    ("Director of Product", "Product"),
    ("Data Analyst", "Analytics"),
    ("Head of Data", "Analytics"),
    ("Customer Success Manager", "Customer Success"),
    ("Founder", "Executive"),
)

# Salesforce's default Industry picklist values; HubSpot's contact "industry" is free text and gets the same
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
)

# country key -> (weight, spellings seen in real CRMs (first is canonical), [(city, state)])
COUNTRIES: dict[str, tuple[float, tuple[str, ...], tuple[tuple[str, str | None], ...]]] = {
    "US": (
        0.52,
        ("United States", "USA", "US", "U.S.", "United States of America"),
        (
            ("New York", "NY"),
            ("San Francisco", "CA"),
            ("Los Angeles", "CA"),
            ("Chicago", "IL"),
            ("Austin", "TX"),
            ("Dallas", "TX"),
            ("Seattle", "WA"),
            ("Boston", "MA"),
            ("Denver", "CO"),
            ("Atlanta", "GA"),
            ("Miami", "FL"),
            ("Portland", "OR"),
            ("Phoenix", "AZ"),
            ("Raleigh", "NC"),
        ),
    ),
    "GB": (
        0.12,
        ("United Kingdom", "UK", "Great Britain", "England"),
        (
            ("London", None),
            ("Manchester", None),
            ("Edinburgh", None),
            ("Bristol", None),
        ),
    ),
    "DE": (
        0.10,
        ("Germany", "Deutschland", "DE"),
        (
            ("Berlin", "Berlin"),
            ("München", "Bayern"),
            ("Hamburg", "Hamburg"),
            ("Köln", "Nordrhein-Westfalen"),
        ),
    ),
    "CA": (0.07, ("Canada", "CA"), (("Toronto", "ON"), ("Vancouver", "BC"), ("Montréal", "QC"))),
    "FR": (0.06, ("France", "FR"), (("Paris", None), ("Lyon", None))),
    "AU": (0.05, ("Australia", "AU"), (("Sydney", "NSW"), ("Melbourne", "VIC"))),
    "NL": (0.04, ("Netherlands", "The Netherlands", "Holland"), (("Amsterdam", None), ("Rotterdam", None))),
    "IN": (0.04, ("India",), (("Bengaluru", "Karnataka"), ("Mumbai", "Maharashtra"))),
}
# phone country codes for the keys above
PHONE_CODES = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "AU": "61", "NL": "31", "IN": "91"}

# odd but real-world phone values (formats a strict validator rejects, or plain garbage)
BAD_PHONES = (
    "n/a",
    "none",
    "-",
    "call me",
    "000",
    "12345",
    "+1 (555) CALL-NOW",
    "ask reception",
    "0",
    "+",
    "x",
    "tbd",
    "555-555-5555 or 555-555-5556",
    "phone: see website",
)

PAGES = (
    ("/", "Home"),
    ("/pricing", "Pricing"),
    ("/product", "Product overview"),
    ("/product/integrations", "Integrations"),
    ("/customers", "Customer stories"),
    ("/blog/crm-data-quality", "Five habits of clean CRM data"),
    ("/blog/lead-scoring-101", "Lead scoring 101"),
    ("/blog/sales-marketing-alignment", "Aligning sales and marketing"),
    ("/webinars", "Webinars"),
    ("/resources/ebook-pipeline", "E-book: building pipeline"),
    ("/demo", "Book a demo"),
    ("/contact", "Contact us"),
    ("/careers", "Careers"),
    ("/docs/getting-started", "Getting started"),
    ("/security", "Security"),
    ("/partners", "Partners"),
)
FORMS = (
    ("Newsletter signup", "/blog/lead-scoring-101"),
    ("Demo request", "/demo"),
    ("Contact us", "/contact"),
    ("E-book download", "/resources/ebook-pipeline"),
    ("Webinar registration", "/webinars"),
)
EMAIL_SUBJECTS = (
    "Your weekly CRM tips",
    "New: two-way sync for custom objects",
    "Webinar invite: fixing duplicate leads",
    "Case study: how Northwind cut data entry by 40%",
    "Your e-book is ready",
    "Last chance: spring pricing",
    "Product update: faster imports",
    "Join us at the SaaS Summit",
    "We miss you",
    "Q3 release notes",
    "3 ways to align sales and marketing",
    "Your trial ends in 3 days",
)
CALL_TITLES = ("Discovery call", "Follow-up call", "Intro call", "Pricing discussion", "Check-in", "Demo follow-up")
MEETING_TITLES = (
    "Product demo",
    "Discovery meeting",
    "Technical deep dive",
    "Contract review",
    "Quarterly business review",
)
TASK_SUBJECTS = ("Follow up", "Send proposal", "Send pricing", "Schedule demo", "Check in after trial", "Prepare QBR")
NOTE_BODIES = (
    "Interested in the enterprise plan; budget approved for Q3.",
    "Uses a competitor today, contract ends soon.",
    "Asked for a security questionnaire.",
    "Champion is moving to another team.",
    "Wants a trial for 5 users.",
    "Left a voicemail.",
    "Decision expected next month.",
)
DESCRIPTIONS = (
    "Met at trade show booth.",
    "Imported from purchased list.",
    "Referred by partner.",
    "Downloaded e-book.",
    "Inbound demo request.",
    "Existing customer contact.",
)
CAMPAIGN_THEMES = (
    "Data quality",
    "Pipeline acceleration",
    "Spring launch",
    "Customer summit",
    "Partner week",
    "Year-end offer",
    "Integrations tour",
    "Security roadshow",
)
PRODUCTS = ("Enterprise plan", "Growth plan", "Starter plan", "Renewal", "Add-on seats", "Professional services")
