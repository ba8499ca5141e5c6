"""The invented discharge notes behind both MeDiSumQA's and MeDiSumCode's demo files, MIMIC-IV
style (de-identification as "___"); one module so the two tasks' demo sets describe the same
patients, as upstream both come from the same MIMIC-IV notes. Nothing here is from a real patient."""

from __future__ import annotations

#: The first line of every demo note, so no one mistakes it for a real one.
NOTE_BANNER = "[SYNTHETIC DEMO NOTE - invented for cluebench, not real patient data]"

# Each: (hadm_id, note_id, sex, service, body sections, discharge instructions, codes, QA pairs)
NOTES = [
    dict(
        hadm_id=29000001, note_id="SYNTHETIC-19000001-DS-1", sex="F", service="MEDICINE",
        complaint="Shortness of breath",
        hpi="Ms. ___ is a ___ year old woman with COPD and hypertension who presented with four days of "
            "worsening cough with green sputum and shortness of breath. She used her albuterol inhaler "
            "every two hours without relief.",
        pmh="COPD, hypertension, former smoker (40 pack-years).",
        course="She was treated for a COPD exacerbation with nebulizers, prednisone 40 mg daily and "
               "azithromycin. Chest x-ray showed no pneumonia. She needed 2 liters of oxygen on arrival, which "
               "was weaned to room air by day 3. Blood pressure was controlled on her home amlodipine.",
        diagnoses="Primary: COPD exacerbation\nSecondary: Hypertension",
        instructions="You were admitted to the hospital because of trouble breathing from a flare of your COPD. "
                     "While you were here:\n- You were treated with breathing treatments, steroids and an antibiotic.\n"
                     "- Your chest x-ray did not show pneumonia.\n- You were weaned off oxygen.\n"
                     "Please finish your prednisone as prescribed.",
        codes=[("J441", "Chronic obstructive pulmonary disease with (acute) exacerbation"),
               ("I10", "Essential (primary) hypertension"),
               ("Z87891", "Personal history of nicotine dependence")],
        qa=[("Did my chest x-ray show an infection in my lungs?", "Your chest x-ray did not show pneumonia."),
            ("How was my breathing problem treated?",
             "You were treated with breathing treatments, steroids and an antibiotic.")],
    ),
    dict(
        hadm_id=29000002, note_id="SYNTHETIC-19000002-DS-1", sex="M", service="MEDICINE",
        complaint="Black stools",
        hpi="Mr. ___ is a ___ year old man who takes ibuprofen daily for back pain and presented with two days "
            "of black stools and dizziness on standing.",
        pmh="Chronic low back pain, hyperlipidemia.",
        course="His hemoglobin was 7.1 on arrival and he received two units of blood. Endoscopy found a "
               "bleeding ulcer in the duodenum that was treated with clips. He was started on pantoprazole. "
               "Biopsies for H. pylori were negative. His hemoglobin remained stable at 9.0 for 48 hours.",
        diagnoses="Primary: Upper GI bleed from duodenal ulcer\nSecondary: Acute blood loss anemia, hyperlipidemia",
        instructions="You were admitted to the hospital because you had bleeding from your stomach.\n"
                     "- A camera test found a bleeding ulcer, which was treated with clips.\n"
                     "- You received two blood transfusions.\n- The test for the H. pylori bacteria was negative.\n"
                     "Please stop taking ibuprofen and other NSAIDs.",
        codes=[("K264", "Chronic or unspecified duodenal ulcer with hemorrhage"),
               ("D62", "Acute posthemorrhagic anemia"),
               ("E785", "Hyperlipidemia, unspecified"),
               ("M5450", "Low back pain, unspecified")],
        qa=[("What caused the bleeding?", "A camera test found a bleeding ulcer, which was treated with clips."),
            ("Did I need blood?", "You received two blood transfusions.")],
    ),
    dict(
        hadm_id=29000003, note_id="SYNTHETIC-19000003-DS-1", sex="F", service="NEUROLOGY",
        complaint="Right arm weakness",
        hpi="Ms. ___ is a ___ year old woman with atrial fibrillation, not on anticoagulation, who developed "
            "sudden right arm weakness and trouble finding words at breakfast.",
        pmh="Atrial fibrillation, type 2 diabetes, hypertension.",
        course="CT angiography showed a blocked left middle cerebral artery branch. She received tenecteplase "
               "and underwent thrombectomy with good reopening of the vessel. MRI showed a small left frontal "
               "infarct. Her speech improved and mild right hand weakness remained. She was started on apixaban "
               "for stroke prevention. Her diabetes was managed with insulin while inpatient.",
        diagnoses="Primary: Acute ischemic stroke, left MCA\nSecondary: Atrial fibrillation, type 2 diabetes, hypertension",
        instructions="You were admitted to the hospital because you had a stroke.\n"
                     "- A clot-dissolving medicine was given and the clot was removed with a catheter.\n"
                     "- Your MRI showed a small stroke on the left side of your brain.\n"
                     "- You were started on apixaban, a blood thinner, to prevent future strokes.",
        codes=[("I63512", "Cerebral infarction due to unspecified occlusion or stenosis of left middle cerebral artery"),
               ("I4891", "Unspecified atrial fibrillation"),
               ("E119", "Type 2 diabetes mellitus without complications"),
               ("I10", "Essential (primary) hypertension")],
        qa=[("What did my brain scan show?", "Your MRI showed a small stroke on the left side of your brain."),
            ("Why was I started on a new blood thinner?",
             "You were started on apixaban, a blood thinner, to prevent future strokes.")],
    ),
    dict(
        hadm_id=29000004, note_id="SYNTHETIC-19000004-DS-1", sex="M", service="MEDICINE",
        complaint="Nausea and vomiting",
        hpi="Mr. ___ is a ___ year old man with type 1 diabetes who ran out of insulin three days ago and "
            "presented with vomiting, abdominal pain and fast breathing.",
        pmh="Type 1 diabetes since age 12.",
        course="He was found to have diabetic ketoacidosis with a glucose of 540 and an anion gap of 27. He was "
               "treated in the ICU with an insulin drip and IV fluids, and his gap closed within 18 hours. He was "
               "transitioned to glargine and lispro. Social work helped him enroll in an insulin assistance program.",
        diagnoses="Primary: Diabetic ketoacidosis\nSecondary: Type 1 diabetes mellitus",
        instructions="You were admitted to the hospital because your blood sugar was very high and your blood "
                     "had become acidic (diabetic ketoacidosis).\n- You were treated in the ICU with insulin and fluids.\n"
                     "- Social work helped you sign up for a program to afford insulin.\n"
                     "Never stop your long-acting insulin, even when you are not eating.",
        codes=[("E1010", "Type 1 diabetes mellitus with ketoacidosis without coma"),
               ("Z91120", "Patient's intentional underdosing of medication regimen due to financial hardship")],
        qa=[("Where was I treated when I first arrived?", "You were treated in the ICU with insulin and fluids."),
            ("Did anyone help me with the cost of insulin?",
             "Social work helped you sign up for a program to afford insulin.")],
    ),
    dict(
        hadm_id=29000005, note_id="SYNTHETIC-19000005-DS-1", sex="F", service="SURGERY",
        complaint="Right upper quadrant pain",
        hpi="Ms. ___ is a ___ year old woman with known gallstones who presented with one day of severe "
            "upper abdominal pain radiating to her back, with nausea.",
        pmh="Obesity, gallstones, gastroesophageal reflux disease.",
        course="Lipase was 2,950 and ultrasound showed gallstones without a dilated bile duct. She was treated "
               "for gallstone pancreatitis with IV fluids, pain control and bowel rest. Her pain improved and "
               "her diet was advanced. She underwent laparoscopic cholecystectomy on hospital day 4 without "
               "complications.",
        diagnoses="Primary: Acute gallstone pancreatitis\nSecondary: Obesity, GERD",
        instructions="You were admitted to the hospital with inflammation of your pancreas caused by gallstones.\n"
                     "- You were treated with fluids and pain medicine.\n"
                     "- Your gallbladder was removed with a laparoscopic operation.\n"
                     "Do not lift more than 10 pounds for 2 weeks.",
        codes=[("K8510", "Biliary acute pancreatitis without necrosis or infection"),
               ("K8020", "Calculus of gallbladder without cholecystitis without obstruction"),
               ("E669", "Obesity, unspecified"),
               ("K219", "Gastro-esophageal reflux disease without esophagitis")],
        qa=[("What operation did I have?", "Your gallbladder was removed with a laparoscopic operation."),
            ("How was my pancreas inflammation treated?", "You were treated with fluids and pain medicine.")],
    ),
    dict(
        hadm_id=29000006, note_id="SYNTHETIC-19000006-DS-1", sex="F", service="MEDICINE",
        complaint="Confusion",
        hpi="Ms. ___ is an ___ year old woman with dementia living in assisted living who became more confused "
            "over two days, with fever and burning urination reported by staff.",
        pmh="Alzheimer dementia, hypothyroidism, osteoarthritis.",
        course="Urinalysis was consistent with infection and urine culture grew E. coli sensitive to "
               "ceftriaxone. She was treated with ceftriaxone and then oral cephalexin. Her sodium was 150 from "
               "poor intake and corrected with IV fluids. Her creatinine improved from 1.7 to 1.0. Her mental "
               "status returned to baseline.",
        diagnoses="Primary: E. coli urinary tract infection\nSecondary: Hypernatremia, acute kidney injury, dementia",
        instructions="", codes=[
            ("N390", "Urinary tract infection, site not specified"),
            ("B9620", "Unspecified Escherichia coli [E. coli] as the cause of diseases classified elsewhere"),
            ("E870", "Hyperosmolality and hypernatremia"),
            ("N179", "Acute kidney failure, unspecified"),
            ("G309", "Alzheimer's disease, unspecified"),
            ("E039", "Hypothyroidism, unspecified")],
        qa=[],
    ),
    dict(
        hadm_id=29000007, note_id="SYNTHETIC-19000007-DS-1", sex="M", service="CARDIOLOGY",
        complaint="Chest pain",
        hpi="Mr. ___ is a ___ year old man who smokes one pack per day and presented with crushing chest "
            "pain for one hour.",
        pmh="Hyperlipidemia, tobacco use.",
        course="ECG showed ST elevations in the inferior leads. Emergency catheterization found a blocked right "
               "coronary artery, which was opened with a drug-eluting stent. Echocardiogram showed an ejection "
               "fraction of 50%. He was started on aspirin, ticagrelor, high-intensity atorvastatin and metoprolol, "
               "and counseled on smoking cessation.",
        diagnoses="Primary: Inferior STEMI\nSecondary: Coronary artery disease, hyperlipidemia, tobacco use",
        instructions="", codes=[
            ("I2119", "ST elevation (STEMI) myocardial infarction involving other coronary artery of inferior wall"),
            ("I2510", "Atherosclerotic heart disease of native coronary artery without angina pectoris"),
            ("E785", "Hyperlipidemia, unspecified"),
            ("F17210", "Nicotine dependence, cigarettes, uncomplicated")],
        qa=[],
    ),
    dict(
        hadm_id=29000008, note_id="SYNTHETIC-19000008-DS-1", sex="F", service="ORTHOPAEDICS",
        complaint="Left hip pain after fall",
        hpi="Ms. ___ is an ___ year old woman who tripped at home and could not stand afterwards.",
        pmh="Osteoporosis, hypertension, chronic kidney disease stage 3a.",
        course="X-ray showed a displaced left femoral neck fracture. She underwent left hip hemiarthroplasty. "
               "Postoperative anemia to 8.4 did not require transfusion. She worked with physical therapy and "
               "was discharged to rehabilitation. Enoxaparin was given for clot prevention.",
        diagnoses="Primary: Left femoral neck fracture\nSecondary: Osteoporosis, CKD stage 3a, hypertension",
        instructions="", codes=[
            ("S72002A", "Fracture of unspecified part of neck of left femur, initial encounter for closed fracture"),
            ("M810", "Age-related osteoporosis without current pathological fracture"),
            ("I129", "Hypertensive chronic kidney disease with stage 1 through stage 4 chronic kidney disease, "
                     "or unspecified chronic kidney disease"),
            ("N1831", "Chronic kidney disease, stage 3a"),
            ("W010XXA", "Fall on same level from slipping, tripping and stumbling without subsequent striking "
                        "against object, initial encounter")],
        qa=[],
    ),
    dict(
        hadm_id=29000009, note_id="SYNTHETIC-19000009-DS-1", sex="M", service="MEDICINE",
        complaint="Leg swelling and shortness of breath",
        hpi="Mr. ___ is a ___ year old man with heart failure with reduced ejection fraction who stopped his "
            "furosemide two weeks ago and gained 5 kg.",
        pmh="Heart failure with reduced ejection fraction (EF 30%), atrial fibrillation, CKD stage 3b.",
        course="He was diuresed with IV furosemide and lost 6 kg. His breathing returned to baseline. Creatinine "
               "rose mildly from 1.9 to 2.2 and then stabilized. Rate control with metoprolol was continued and "
               "apixaban was continued for atrial fibrillation.",
        diagnoses="Primary: Acute on chronic systolic heart failure\nSecondary: Atrial fibrillation, CKD stage 3b",
        instructions="", codes=[
            ("I110", "Hypertensive heart disease with heart failure"),
            ("I5023", "Acute on chronic systolic (congestive) heart failure"),
            ("I4891", "Unspecified atrial fibrillation"),
            ("N1832", "Chronic kidney disease, stage 3b"),
            ("Z7901", "Long term (current) use of anticoagulants")],
        qa=[],
    ),
    dict(
        hadm_id=29000010, note_id="SYNTHETIC-19000010-DS-1", sex="F", service="MEDICINE",
        complaint="Fever and cough",
        hpi="Ms. ___ is a ___ year old woman with rheumatoid arthritis on methotrexate who presented with "
            "three days of fever, cough and low oxygen levels.",
        pmh="Rheumatoid arthritis, asthma.",
        course="Chest x-ray showed a right lower lobe pneumonia. She was treated with ceftriaxone and "
               "azithromycin and needed up to 3 liters of oxygen. Methotrexate was held during the infection. "
               "Blood cultures were negative. She was weaned to room air and completed antibiotics with oral "
               "cefpodoxime.",
        diagnoses="Primary: Community acquired pneumonia\nSecondary: Rheumatoid arthritis, asthma",
        instructions="", codes=[
            ("J189", "Pneumonia, unspecified organism"),
            ("J9601", "Acute respiratory failure with hypoxia"),
            ("M069", "Rheumatoid arthritis, unspecified"),
            ("J45909", "Unspecified asthma, uncomplicated"),
            ("Z79899", "Other long term (current) drug therapy")],
        qa=[],
    ),
]


def note_text(note: dict, *, with_instructions: bool) -> str:
    """A MIMIC-IV-style discharge summary; paragraphs separated by two blank lines as upstream."""
    parts = [
        f"{NOTE_BANNER}\n \nName:  ___                     Unit No:   ___\n \nAdmission Date:  ___"
        f"              Discharge Date:   ___\n \nSex:   {note['sex']}\n \nService: {note['service']}",
        f"Chief Complaint:\n{note['complaint']}",
        f"History of Present Illness:\n{note['hpi']}",
        f"Past Medical History:\n{note['pmh']}",
        f"Brief Hospital Course:\n{note['course']}",
        f"Discharge Diagnosis:\n{note['diagnoses']}",
        "Discharge Condition:\nMental Status: Clear and coherent.\nActivity Status: Ambulatory - Independent.",
    ]
    if with_instructions and note["instructions"]:
        parts.append(f"Discharge Instructions:\nDear ___,\n\n{note['instructions']}\n\n"
                     "Sincerely,\nYour ___ Care Team")
    parts.append("Followup Instructions:\n___")
    return "\n \n \n".join(parts) + "\n"
